#!/usr/bin/env python3
"""Thin CLI entry point: all logic lives in :mod:`emulator.cli`."""

import sys

from emulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
