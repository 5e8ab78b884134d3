//! CPU placement. Where the scheduler puts each process decides a round
//! trip's cost (a wake-up on another, idle CPU costs tens of microseconds
//! in a VM) and depends on start order, so it would favour whichever
//! implementation happens to land well. The benchmark pins itself to one
//! CPU and each program it drives to the same CPU (latency workloads: the
//! bare loops run there too) or to another one (throughput workloads, so
//! both sides run at once).

/// Where a driven program runs relative to the benchmark.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Place {
    Same,
    Other,
}

/// The CPUs used: the benchmark's own and the other one (the same when
/// only one is allowed).
#[derive(Clone, Copy, Debug)]
pub struct Cpus {
    pub mine: usize,
    pub other: usize,
}

fn set_affinity(pid: i32, cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is empty; the calls get valid pointers.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(pid, core::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

impl Cpus {
    /// Pins this process to the first CPU it may use and picks the next
    /// one as the other.
    pub fn pin_self() -> Cpus {
        let mut allowed = Vec::new();
        // SAFETY: as above.
        unsafe {
            let mut set: libc::cpu_set_t = core::mem::zeroed();
            if libc::sched_getaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
                for cpu in 0..libc::CPU_SETSIZE as usize {
                    if libc::CPU_ISSET(cpu, &set) {
                        allowed.push(cpu);
                    }
                }
            }
        }
        let mine = allowed.first().copied().unwrap_or(0);
        let other = allowed.get(1).copied().unwrap_or(mine);
        set_affinity(0, mine);
        Cpus { mine, other }
    }

    /// The CPU for `place`.
    pub fn cpu(&self, place: Place) -> usize {
        match place {
            Place::Same => self.mine,
            Place::Other => self.other,
        }
    }

    /// Pins process `pid` (and the children it forks later) for `place`.
    pub fn pin(&self, pid: u32, place: Place) {
        set_affinity(pid as i32, self.cpu(place));
    }
}
