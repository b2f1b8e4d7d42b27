"""The frozen app's entry point (PyInstaller runs this file as ``__main__``; desktop.app stays importable)."""

import multiprocessing
import sys

from desktop.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
