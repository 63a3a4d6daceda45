"""The grading domain: the rubric, the report schema, scoring, the quiz and the graded result.

Pure functions of data (the quiz and the rubric loader read their files); nothing here runs student
code or talks to the database or GitHub.
"""
