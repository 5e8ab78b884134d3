. /lib/dp/tests/fatal.sh
