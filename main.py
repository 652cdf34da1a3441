"""FCN Studio desktop app: ``python main.py [--data DATASET --weights FILE ...] [--screenshot OUT.png]``."""

import sys

from app.launch import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
