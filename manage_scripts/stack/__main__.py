import sys

from manage_scripts.stack.cli import main

sys.exit(main())
