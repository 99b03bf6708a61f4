"""What a benchmark process has used so far: peak memory and CPU time.

Standard library only, so the Evidently environment (its own venv) can import it too.
"""

from __future__ import annotations

import resource


def peak_memory() -> dict[str, float]:
    """This process's peak RSS in MB: ``ru_maxrss`` and, as a cross-check, VmHWM."""
    peak = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak["vmhwm_mb"] = int(line.split()[1]) / 1024
    return peak


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
