# The shutdown service of cad.sh: its stdout is control.cmd. Waits until the
# controller has reported, then ends daemonproxy through exec-on-exit.
i=0
while [ ! -e /run/dp-test/cad-seen ] && [ $i -lt 60 ]; do
    sleep 1
    i=$((i + 1))
done
printf 'signal.clear\tSIGINT\t1\nterminate\t0\t1\n'
sleep 600
