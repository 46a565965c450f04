"""A corpus folder: finding its documents (nested folders included), reading them, and
adding or removing one while the product runs.

Scanning is cheap: it lists the supported files with their size and sha256, without
extracting text, so an up-to-date index opens without reading a PDF. A file that cannot
be a document (unsupported type, over the size limit, an exact copy of another) is
skipped with a one-line message naming it and what to do; the other documents still load.

Symbolic links: a link to a file is followed only when the file it points to lies inside
the folder (then it is read under the link's name); a link out of the folder, a link to a
folder, a broken link and a link loop are listed as skipped, never followed. Reading opens
the file without following it anywhere else, refuses anything that is no longer a regular
file (a pipe put in its place would block the read), and reads no more than the format's
size limit however much the file grew since the scan.

Nothing the user has is lost: an added file never overwrites another, and a removed one
is moved into the folder's ``.removed/`` directory, not deleted.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import io
import logging
import os
import re
import shutil
import stat as stat_mode
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from qa.corpus import furniture
from qa.corpus.documents import Article
from qa.corpus.formats import MAX_BYTES, check_document, kind_label, kind_of, read_document, supported_suffixes
from qa.errors import CorpusError, DocumentError

log = logging.getLogger("qa.corpus")

#: A file modified more recently than this is hashed again on every scan (see `_sha256_of`).
RACY_SECONDS = 2

#: Where removed documents go, inside the corpus folder (skipped by scans, like every
#: hidden file and folder).
REMOVED_DIR = ".removed"
#: The corpus's own description (`qa.corpus.description`), never read as a document.
DESCRIPTION_FILE = "corpus.toml"
#: Why a folder entry is left out unread (see the module's note on links).
LINK_OUTSIDE = "a link to a file outside the corpus folder; not followed: copy the file into the folder instead."
LINK_TO_FOLDER = "a link to a folder; not followed: move the folder into the corpus folder instead."
LINK_LOOP = "a link that loops back on itself; remove it."
BROKEN_LINK = "a link to a file that does not exist; remove it or point it at the file."
SPECIAL_FILE = "not a regular file (a pipe, socket or device); left out."
#: Names an uploaded file may keep: letters, digits and a few separators; the rest become "_".
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class SourceFile:
    """One document file of the folder, not yet read."""

    source: str  # relative POSIX path: the citation's name
    path: Path
    kind: str
    size: int
    sha256: str
    #: The corpus folder: the file must still lie inside it when it is read.
    root: Path | None = None

    def read(self, ocr=None) -> Article:
        """Extract its text. Raises `DocumentError` naming the file and the fix. ``ocr``
        reads pages without a text layer (`qa.corpus.formats.read_document`)."""
        name = str(self.path)
        if self.root is not None:
            _check_inside(self.root, self.path, name)
        data = read_bounded(self.path, MAX_BYTES[self.kind], name, self.kind)
        return self.marked(read_document(self.source, data, path_for_messages=name, ocr=ocr))

    def marked(self, article: Article) -> Article:
        """``article`` (this file's text) with its page furniture found under the rules of the
        corpus folder it lies in (`qa.corpus.furniture.rules_for`: the shipped rules and its
        ``corpus.toml``)."""
        return furniture.marked(article, furniture.rules_for(self.path.parents[len(PurePosixPath(self.source).parts) - 1]))


@dataclass
class Scan:
    files: list[SourceFile] = field(default_factory=list)
    #: One message per file left out, naming it and what to do.
    skipped: list[str] = field(default_factory=list)
    #: The subset of ``skipped`` that are simply not documents (images, spreadsheets...):
    #: worth listing, not worth a warning every time the corpus is opened.
    unsupported: list[str] = field(default_factory=list)

    def log_skipped(self) -> None:
        for message in self.skipped:
            level = logging.INFO if message in self.unsupported else logging.WARNING
            log.log(level, "Skipped a document: %s", message)


class CorpusFolder:
    """The documents under one folder.

    >>> folder = CorpusFolder(Path("seeds"))                  # doctest: +SKIP
    >>> [f.source for f in folder.scan().files][:1]           # doctest: +SKIP
    ['000_ba0d99dbaf0691ae.txt']
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def check(self) -> None:
        if not self.root.is_dir():
            raise CorpusError(
                f"Corpus folder {str(self.root)!r} does not exist; "
                "put the documents there, or name another folder (--corpus or QA_SEEDS_DIR)."
            )

    def scan(self, *, required: bool = False) -> Scan:
        """Every supported document under the folder, sorted by source; the rest explained.
        ``required``: raise `CorpusError` when there is none."""
        self.check()
        scan = Scan()
        first_by_hash: dict[str, str] = {}
        for source, path, stat in sorted(self._walk(), key=lambda found: found[0]):
            if isinstance(stat, str):  # a link or a special file, not followed
                scan.skipped.append(f"{source}: {stat}")
                continue
            size = stat.st_size
            kind = kind_of(path.name)
            if kind is None:
                if path.name != DESCRIPTION_FILE:
                    message = f"{source}: not a supported document type ({', '.join(supported_suffixes())}); left out."
                    scan.skipped.append(message)
                    scan.unsupported.append(message)
                continue
            try:
                if size > MAX_BYTES[kind]:
                    raise DocumentError(
                        f"{str(path)!r} is {size:,} bytes, over the {MAX_BYTES[kind]:,}-byte limit for {kind_label(kind)} "
                        "document; split it into smaller documents."
                    )
                digest = _sha256_of(path, stat)
            except DocumentError as err:
                scan.skipped.append(f"{source}: {err}")
                continue
            except OSError as err:
                scan.skipped.append(f"{source}: cannot be read ({err.strerror}); check its permissions.")
                continue
            if digest in first_by_hash:
                scan.skipped.append(
                    f"{source}: an exact copy of {first_by_hash[digest]}; left out (remove one of the two)."
                )
                continue
            first_by_hash[digest] = source
            scan.files.append(SourceFile(source, path, kind, size, digest, self.root))
        if required and not scan.files:
            raise CorpusError(
                f"Corpus folder {str(self.root)!r} holds no documents ({', '.join(supported_suffixes())})"
                + (f"; left out: {'; '.join(scan.skipped)}" if scan.skipped else "")
                + ". Add some, or name another folder (--corpus or QA_SEEDS_DIR)."
            )
        return scan

    def _walk(self, folder: Path | None = None, prefix: str = ""):
        """(source, path, os.stat_result) of every file, hidden files and folders left out; for
        a link that is not followed or a special file, (source, path, why) instead. os.scandir
        gives each entry's type and size without a call per file (adding a document while the
        chat runs scans the whole folder)."""
        folder = self.root if folder is None else folder
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                source = f"{prefix}{entry.name}"
                if entry.is_symlink():
                    yield source, Path(entry.path), self._link(Path(entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("__"):
                        yield from self._walk(Path(entry.path), f"{source}/")
                elif entry.is_file(follow_symlinks=False):
                    yield source, Path(entry.path), entry.stat(follow_symlinks=False)
                else:
                    yield source, Path(entry.path), SPECIAL_FILE

    def _link(self, path: Path) -> os.stat_result | str:
        """A link's target's stat when it is a file inside the folder, else why it is not followed."""
        try:
            target = path.resolve(strict=True)
        except RuntimeError:  # Python 3.11 reports a loop so
            return LINK_LOOP
        except OSError as err:
            return LINK_LOOP if err.errno == errno.ELOOP else BROKEN_LINK
        if not target.is_relative_to(self.root.resolve()):
            return LINK_OUTSIDE
        try:
            found = target.stat()
        except OSError:
            return BROKEN_LINK
        if stat_mode.S_ISDIR(found.st_mode):
            return LINK_TO_FOLDER
        return found if stat_mode.S_ISREG(found.st_mode) else SPECIAL_FILE

    # -- changing the folder (the chat's "Add documents" and "Remove") -----------------

    def add(self, name: str, data: bytes) -> str:
        """Save an uploaded document at the top of the folder; returns its source.

        Raises `DocumentError` when it is not a supported type, over the limit, unreadable
        (it is read first, so a broken file never enters the folder), or a copy of a
        document already there. A different file of the same name is kept: the new one
        gets a numbered name.
        """
        self.check()
        name = _safe_name(name)
        check_document(name, data)  # refuses what could not be indexed, with the reason
        digest = hashlib.sha256(data).hexdigest()
        for existing in self.scan().files:
            if existing.sha256 == digest:
                raise DocumentError(f"{name!r} is already in the corpus as {existing.source}; nothing to add.")
        target = _free_path(self.root / name)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return _source_of(self.root, target)

    def remove(self, source: str) -> Path:
        """Move a document out of the corpus (into ``.removed/``); returns where it went."""
        self.check()
        path = self._path_of(source)
        if not path.is_file():
            raise DocumentError(f"{source!r} is not in the corpus folder {str(self.root)!r}.")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = _free_path(self.root / REMOVED_DIR / stamp / PurePosixPath(source))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
        return target

    def _path_of(self, source: str) -> Path:
        relative = PurePosixPath(source)
        if relative.is_absolute() or ".." in relative.parts:
            raise DocumentError(f"{source!r} is not a document of this corpus.")
        return self.root.joinpath(*relative.parts)


def load_corpus(root: Path) -> list[Article]:
    """Every readable document under ``root``, sorted by source; each one left out is
    logged as a warning naming it and the fix. Raises `CorpusError` when none is left."""
    scan = CorpusFolder(root).scan(required=True)
    scan.log_skipped()
    articles, skipped = [], list(scan.skipped)
    for file in scan.files:
        try:
            articles.append(file.read())
        except DocumentError as err:
            log.warning("Skipped a document: %s", err)
            skipped.append(f"{file.source}: {err}")
    if not articles:
        raise CorpusError(
            f"Corpus folder {str(root)!r} holds no readable document "
            f"(skipped {', '.join(s.split(':', 1)[0] for s in skipped)}: see the warnings above)."
        )
    return articles


def _source_of(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _sha256_of(path: Path, stat: os.stat_result) -> str:
    """The file's sha256, remembered while its size, modification time and inode stay the
    same (the test make and rsync rely on): the chat rescans the folder on every change.
    A file modified within `RACY_SECONDS` is hashed afresh, as git does: file times are
    coarser than the time it takes to write a file twice."""
    if time.time_ns() - stat.st_mtime_ns < RACY_SECONDS * 1e9:
        return _sha256_read(str(path))
    return _sha256_cached(str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)


@functools.lru_cache(maxsize=1 << 16)
def _sha256_cached(path: str, size: int, mtime_ns: int, inode: int) -> str:
    return _sha256_read(path)


def _sha256_read(path: str) -> str:
    digest = hashlib.sha256()
    with _open_regular(path) as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _open_regular(path) -> io.BufferedReader:
    """``path`` opened for reading, or `DocumentError` when it is no longer a regular file.
    Opening does not wait: a pipe put in the file's place would block a plain ``open``."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat_mode.S_ISREG(os.fstat(fd).st_mode):
            raise DocumentError(f"{str(path)!r} is {SPECIAL_FILE}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: Path, limit: int, name: str, kind: str) -> bytes:
    """The file's bytes, reading no more than ``limit`` (+1, to tell that it is over). Raises
    `DocumentError` when it vanished, cannot be read, is not a regular file or is over the limit."""
    try:
        with _open_regular(path) as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError as err:
        raise DocumentError(
            f"{name!r} is no longer in the corpus folder (moved or deleted while the folder was read); "
            "put it back to index it."
        ) from err
    except OSError as err:
        raise DocumentError(f"{name!r} cannot be read ({err.strerror}); check its permissions.") from err
    if len(data) > limit:
        raise DocumentError(
            f"{name!r} is over the {limit:,}-byte limit for {kind_label(kind)} document; split it into smaller documents."
        )
    return data


def _check_inside(root: Path, path: Path, name: str) -> None:
    """Refuse a file that is now a link out of the folder (it was replaced since the scan)."""
    try:
        inside = path.resolve(strict=True).is_relative_to(Path(root).resolve())
    except (OSError, RuntimeError):
        return  # gone or looping: `read_bounded` says which
    if not inside:
        raise DocumentError(f"{name!r} is {LINK_OUTSIDE}")


def _safe_name(name: str) -> str:
    base = PurePosixPath(str(name).replace("\\", "/")).name.strip()
    stem, dot, suffix = base.rpartition(".")
    cleaned = _UNSAFE_NAME.sub("_", stem if dot else base).strip(" ._") or "document"
    return f"{cleaned}.{suffix.lower()}" if dot else cleaned


def _free_path(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``... when it is taken."""
    if not path.exists():
        return path
    n = 2
    while (candidate := path.with_name(f"{path.stem}-{n}{path.suffix}")).exists():
        n += 1
    return candidate
