"""``python -m pyshape.cli``: the same as the ``pyshape`` command."""
import sys

from pyshape.cli import main

sys.exit(main())
