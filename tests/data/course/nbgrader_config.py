"""nbgrader configuration of the fixture course used by tests/test_course.py.

A self-contained course (it does not read the repository's nbgrader_config.py), laid out
like the real one; everything else is nbgrader's default (English stubs, 30 s per cell).
"""

import os

c = get_config()  # noqa: F821 -- injected by traitlets when it loads this file

c.CourseDirectory.course_id = "fixture-course"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
