"""`python -m tracker`, and the entry script of the PyInstaller build (tools/build_windows_exe.py)."""
import multiprocessing

if __name__ == "__main__":
    # A frozen tracker.exe starts its worker processes by running itself (spawn): freeze_support
    # turns such a start into the worker, before the command line is even imported.
    multiprocessing.freeze_support()
    from tracker.cli import main

    main()
