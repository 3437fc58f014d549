"""nbgrader configuration for the course (this folder is the nbgrader course directory).

Instructors run ``nbgrader`` from this folder; ``kit release`` and the course checks
(tests/test_course.py) read this file too.  Layout:

    solutions/<assignment>/   instructor versions (solutions, hidden tests)   -- source
    exercises/<assignment>/   student versions, generated and committed       -- release
    submitted/ autograded/ feedback/ gradebook.db exchange/                    -- git-ignored
"""

import os

c = get_config()  # noqa: F821 -- injected by traitlets when it loads this file

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "cs-training"
# Absolute, so nbgrader works the same from any working directory (and in a copy of the course).
c.CourseDirectory.root = COURSE_ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(COURSE_ROOT, "gradebook.db")

# Per-cell limit.  The slowest exercise cells load the sample dialogues with pandas (about
# 1-2 s here); 60 s leaves room for a slow laptop or a loaded grading server, while an
# infinite loop in a submission still costs about a minute, not the whole grading run.
c.ExecutePreprocessor.timeout = 60

# The exchange (release_assignment / fetch / submit / collect) lives inside the course, so
# an instructor without root can use it; `nbgrader release_assignment` creates it with the
# permissions nbgrader wants (world-writable, like /usr/local/share/nbgrader/exchange).
c.Exchange.root = os.path.join(COURSE_ROOT, "exchange")

# What learners see in place of a solution, in their language.
c.ClearSolutions.code_stub = {"python": "# 在这里写你的答案\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "在这里写下你的回答。"
