"""Lab checks, one module per lab. Each check takes the student's answer,
never raises on it, and returns a course_utils.labs.CheckResult."""
