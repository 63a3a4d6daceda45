"""Everything that talks to GitHub: the one package that imports PyGithub.

The worker uses the async facade in `grader.github.publisher`; nothing else calls GitHub.
"""
