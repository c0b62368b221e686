"""``python -m tutor.exercises``: the checker's child process, kept as an alias of
``python -m tutor.exercises.checker`` (see :func:`tutor.exercises.checker.main`)."""

import sys

from tutor.exercises.checker import main

sys.exit(main())
