"""A submission's own dependencies: read from its manifests, filtered by the rubric's policy, installed
as wheels only into a cached folder that the sandbox mounts read-only.

`manifests` reads files (pure parsing), `policy` decides what may be installed (pure), `install` runs
`uv` and keeps the cache. Nothing of the student's runs here: wheels are unpacked, never built.
"""
