"""Files that hold children's words or secrets (the SQLite database, generated secrets, Rasa's
endpoints and conversations): only the account that runs Heard may read them, whatever the umask."""
from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077  # `heard` sets it, so whatever its processes create is private too
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Make the folder (and missing parents) private; a folder that already exists is left as it is,
    since it may be shared (HEARD_VAR_DIR can point anywhere)."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make the file if it is missing, private from its first byte, and make an existing one private."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        path.chmod(FILE_MODE)
    return path
