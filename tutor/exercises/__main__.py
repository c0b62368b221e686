"""``python -m tutor.exercises``: the checker's child process (see :func:`tutor.exercises.main`)."""

import sys

from tutor.exercises import main

sys.exit(main())
