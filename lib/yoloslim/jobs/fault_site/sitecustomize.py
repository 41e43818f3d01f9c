"""Start-up hook of the simulated full disk (`yoloslim.jobs.faults`): on PYTHONPATH only while a fault is injected."""

import os

if os.environ.get("YOLOSLIM_FAULT_DISK"):
    from yoloslim.jobs.faults import install

    install()
