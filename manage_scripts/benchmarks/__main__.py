import sys

from manage_scripts.benchmarks.runner import main

sys.exit(main())
