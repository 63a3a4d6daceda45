"""Scratch space per step and per user: a fresh HOME and TMPDIR before a step, all of it gone after.

When a step ends, every process of its users is killed and whatever they wrote outside their results
(their HOME and TMPDIR, their entries in /tmp and /dev/shm) is removed, so nothing one step wrote can
be read by a later step, in particular one run as another user. The removal runs as the user who
wrote the files: the harness keeps no capability to read or delete another user's private folders.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterable

from .proc import BASE_PATH, Account, kill_user_processes
from .protocol import SHM_DIR, TMP_MOUNT

SHARED_DIRS = (TMP_MOUNT, SHM_DIR)  # writable by every user


def prepare(accounts: Iterable[Account]) -> None:
    """Make each account's HOME and TMPDIR under a root-owned parent: the user's, group root, 0710, so
    no other user can enter them and the harness can still start a process in them (its group gives
    it the search right it lacks as a capability-less root)."""
    for account in accounts:
        parent = os.path.dirname(account.home)
        os.makedirs(parent, mode=0o755, exist_ok=True)
        for folder in (account.home, account.tmp):
            os.makedirs(folder, mode=0o700, exist_ok=True)
            os.chmod(folder, 0o710)  # noqa: S103 - the group is root's: no other user gets in
            os.chown(folder, account.uid, 0)


def owned_entries(uid: int, folders: Iterable[str] = SHARED_DIRS) -> list[str]:
    """The top-level entries of the shared folders that belong to `uid`."""
    found = []
    for folder in folders:
        with contextlib.suppress(OSError):
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    if os.lstat(path).st_uid == uid:
                        found.append(path)
    return found


def clean(accounts: Iterable[Account]) -> None:
    """Kill each account's processes, then remove everything it wrote outside its results."""
    for account in accounts:
        kill_user_processes(account.uid)
        doomed = [account.home, account.tmp, *owned_entries(account.uid)]
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["rm", "-rf", "--", *doomed], user=account.uid, group=account.gid, extra_groups=[],
                           env={"PATH": BASE_PATH, "LANG": "C.UTF-8"}, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
        for folder in (account.home, account.tmp, os.path.dirname(account.home)):
            with contextlib.suppress(OSError):  # the user cannot remove these; the harness owns their parent
                os.rmdir(folder)
