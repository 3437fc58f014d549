"""Matplotlib set-up for Simplified Chinese, regular and bold, on any machine.

:func:`setup_chinese_fonts` points matplotlib at a Chinese font family. It prefers a
system family that has a bold face (:data:`SYSTEM_FAMILIES`: PingFang SC on macOS,
Microsoft YaHei on Windows, Noto Sans CJK SC from Debian's ``fonts-noto-cjk``) and
otherwise uses the bundled Noto Sans SC (SIL Open Font License) from the
``justmytype-intl-cjk`` package.

That package ships Noto Sans SC as a *variable* font, which matplotlib can only draw at
its thinnest weight. :func:`prepare_fonts` therefore cuts static Regular and Bold
instances out of it once per environment (``kit fonts``) and caches them, with the
licence, under ``<sys.prefix>/share/cs-training-kit/fonts`` (or the user cache folder
when that is not writable, or ``$KIT_FONT_DIR``). The instances are registered with
matplotlib's font manager on every set-up call, so a font cache rebuilt by another
environment cannot lose them.

Set ``KIT_FONT_SOURCE`` to ``bundled`` to skip system fonts, ``system`` to require one,
or leave it unset (``auto``).

>>> setup_chinese_fonts() in (*SYSTEM_FAMILIES, BUNDLED_FAMILY)
True
>>> import matplotlib
>>> matplotlib.rcParams["axes.unicode_minus"]
False
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SYSTEM_FAMILIES: tuple[str, ...] = ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC")
"""System font families tried in order; each must have a regular and a bold face."""

BUNDLED_FAMILY = "Noto Sans SC"
BOLD_WEIGHT = 600
"""The lightest weight that counts as bold (PingFang SC's bold face is Semibold, 600)."""

SOURCE_ENV = "KIT_FONT_SOURCE"
FONT_DIR_ENV = "KIT_FONT_DIR"
SAMPLE_TEXT = "电商客服培训：响应时长与满意度"
"""Characters every Chinese face must cover (used by :func:`resolve_faces`)."""

INSTANCES: dict[str, int] = {"NotoSansSC-Regular.ttf": 400, "NotoSansSC-Bold.ttf": 700}
"""Static instances cut from the variable font: file name → ``wght`` axis value."""

LICENCE = "OFL.txt"
_PACKAGE = "justmytype_intl_cjk"
_VARIABLE_FONT = ("fonts", "ofl", "notosanssc", "NotoSansSC[wght].ttf")


@dataclass(frozen=True)
class Face:
    """The font file matplotlib picks for one weight of a family.

    Attributes:
        role: ``"regular"`` or ``"bold"``.
        path: the font file.
        index: the face index inside the file (non-zero only in font collections).
        name: the family name of that face (differs from the one asked for when
            matplotlib fell back to another family).
        weight: its numeric weight (400 regular, 700 bold).
        missing: the characters of the sample text the face has no glyph for.
    """

    role: str
    path: Path
    index: int
    name: str
    weight: int
    missing: str


def variable_font_source() -> Path:
    """Return the Noto Sans SC variable font shipped by ``justmytype-intl-cjk``.

    Its OFL licence sits beside it as ``OFL.txt``.

    Raises:
        FileNotFoundError: when the package or the font file is missing.

    >>> variable_font_source().name
    'NotoSansSC[wght].ttf'
    """
    from importlib.util import find_spec

    spec = find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {_PACKAGE!r} is not installed: pip install justmytype-intl-cjk"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_VARIABLE_FONT)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: pip install --force-reinstall "
                                "justmytype-intl-cjk")
    return path


def font_dirs() -> list[Path]:
    """Folders that may hold the prepared fonts, most preferred first.

    ``$KIT_FONT_DIR`` alone when set; otherwise the environment's own folder
    (``<sys.prefix>/share/cs-training-kit/fonts``) then the user cache folder.

    >>> [p.parts[-2:] for p in font_dirs()][-1]
    ('cs-training-kit', 'fonts')
    """
    override = os.environ.get(FONT_DIR_ENV)
    if override:
        return [Path(override)]
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return [
        Path(sys.prefix) / "share" / "cs-training-kit" / "fonts",
        user_cache / "cs-training-kit" / "fonts",
    ]


def prepared_fonts() -> list[Path] | None:
    """Return the prepared Regular and Bold files, or None if no folder has them all.

    Only looks at the file system: no font is read or built.
    """
    for folder in font_dirs():
        paths = [folder / name for name in INSTANCES]
        if all(p.is_file() for p in [*paths, folder / LICENCE]):
            return paths
    return None


def prepare_fonts() -> list[Path]:
    """Build the static Noto Sans SC Regular and Bold fonts once; return their paths.

    Later calls find the files and return at once. The build (tens of seconds, the
    two weights in parallel processes) writes each file under a temporary name and
    renames it into place, so another process never sees half a font; a lock file
    keeps two processes from building at the same time where the OS supports it.

    Raises:
        FileNotFoundError: when ``justmytype-intl-cjk`` is not installed.
        PermissionError: when none of :func:`font_dirs` is writable.
        RuntimeError: when building an instance fails (the message has its error).
    """
    ready = prepared_fonts()
    if ready:
        return ready
    source = variable_font_source()
    folder = _writable_folder()
    with _build_lock(folder):
        jobs = {name: w for name, w in INSTANCES.items() if not (folder / name).is_file()}
        _instantiate_all(source, folder, jobs)
        if not (folder / LICENCE).is_file():
            with _atomic_path(folder / LICENCE) as tmp:
                shutil.copyfile(source.parent / LICENCE, tmp)
    return [folder / name for name in INSTANCES]


def system_family() -> str | None:
    """Return the first of :data:`SYSTEM_FAMILIES` matplotlib knows with a bold face."""
    from matplotlib.font_manager import fontManager

    weights: dict[str, set[int]] = {}
    for entry in fontManager.ttflist:
        weights.setdefault(entry.name, set()).add(_weight(entry.weight))
    for family in SYSTEM_FAMILIES:
        found = weights.get(family, set())
        if any(w < BOLD_WEIGHT for w in found) and any(w >= BOLD_WEIGHT for w in found):
            return family
    return None


def setup_chinese_fonts(*, prepare: bool = True) -> str:
    """Make matplotlib draw Simplified Chinese; return the font family used.

    Idempotent and cheap after the first call (the bundled fonts are built only once
    per environment, see :func:`prepare_fonts`), so call it before every chart.
    Sets ``font.family`` to sans-serif with the chosen family first in
    ``font.sans-serif``, and ``axes.unicode_minus`` to False.

    Args:
        prepare: build the bundled fonts if they are missing. With False, raise
            FileNotFoundError instead (for checks that must stay fast).

    Raises:
        ValueError: when ``$KIT_FONT_SOURCE`` is not auto, system or bundled.
        LookupError: when ``KIT_FONT_SOURCE=system`` and no system family fits.
        FileNotFoundError: when the bundled fonts are needed and cannot be found.
    """
    import matplotlib

    source = (os.environ.get(SOURCE_ENV) or "auto").strip().lower()
    if source not in ("auto", "system", "bundled"):
        raise ValueError(f"{SOURCE_ENV}={source!r}: expected auto, system or bundled")
    family = None if source == "bundled" else system_family()
    if family is None:
        if source == "system":
            raise LookupError(f"{SOURCE_ENV}=system, but matplotlib knows none of "
                              f"{', '.join(SYSTEM_FAMILIES)} with a regular and a bold face")
        paths = prepare_fonts() if prepare else prepared_fonts()
        if paths is None:
            raise FileNotFoundError("the bundled Chinese fonts are not prepared yet "
                                    "(run `kit fonts`)")
        _register(paths)
        family = BUNDLED_FAMILY
    rc = matplotlib.rcParams
    rc["font.family"] = ["sans-serif"]
    rc["font.sans-serif"] = [family, *(f for f in rc["font.sans-serif"] if f != family)]
    rc["axes.unicode_minus"] = False
    return family


def resolve_faces(family: str, sample: str = SAMPLE_TEXT) -> list[Face]:
    """Return the regular and bold faces matplotlib picks for ``family``.

    >>> regular, bold = resolve_faces(setup_chinese_fonts())
    >>> regular.weight < BOLD_WEIGHT <= bold.weight, regular.missing, bold.missing
    (True, '', '')
    """
    from matplotlib.font_manager import FontProperties, fontManager
    from matplotlib.ft2font import FT2Font

    faces = []
    for role in ("regular", "bold"):
        props = FontProperties(family=family, weight="bold" if role == "bold" else "normal")
        found = fontManager.findfont(props, fallback_to_default=False)
        real = os.path.realpath(found)
        index = getattr(found, "face_index", 0)
        entry = next(e for e in fontManager.ttflist
                     if os.path.realpath(e.fname) == real and e.index == index)
        charmap = FT2Font(real, face_index=index).get_charmap()
        missing = "".join(dict.fromkeys(c for c in sample if ord(c) not in charmap))
        faces.append(Face(role, Path(real), index, entry.name, _weight(entry.weight), missing))
    return faces


def _weight(value: int | str) -> int:
    from matplotlib.font_manager import weight_dict

    return value if isinstance(value, int) else weight_dict.get(value, 400)


def _register(paths: list[Path]) -> None:
    """Add the fonts to matplotlib's font manager unless it already has them."""
    from matplotlib.font_manager import fontManager

    known = {entry.fname for entry in fontManager.ttflist}
    for path in paths:
        if str(path) not in known:
            fontManager.addfont(path)


def _writable_folder() -> Path:
    tried = []
    for folder in font_dirs():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            tried.append(f"{folder} ({exc.strerror or exc})")
            continue
        if os.access(folder, os.W_OK | os.X_OK):
            return folder
        tried.append(f"{folder} (not writable)")
    raise PermissionError(f"no writable folder for the Chinese fonts; tried {'; '.join(tried)}."
                          f" Set {FONT_DIR_ENV} to a writable folder.")


@contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no lock, the atomic renames still keep files whole
        yield
        return
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _instantiate_all(source: Path, folder: Path, jobs: dict[str, int]) -> None:
    """Build each instance in its own Python process, in parallel when CPUs allow."""
    parallel = (os.cpu_count() or 1) > 1
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")) if p)
    code = "import sys; from kit.fonts import instantiate; instantiate(*sys.argv[1:])"
    running = []
    for name, weight in jobs.items():
        cmd = [sys.executable, "-c", code, str(source), str(weight), str(folder / name)]
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stderr=subprocess.PIPE, text=True)
        if not parallel:
            proc.wait()
        running.append((name, proc))
    errors = []
    for name, proc in running:
        _, err = proc.communicate()
        if proc.returncode:
            errors.append(f"{folder / name}: exit {proc.returncode}: {err.strip()[-2000:]}")
    if errors:
        raise RuntimeError("building the Chinese fonts failed: " + " | ".join(errors))


def instantiate(source: str | Path, weight: str | int, target: str | Path) -> None:
    """Write the static instance of variable font ``source`` at ``weight`` to ``target``.

    The name table is updated from the font's STAT table, so the family stays
    ``Noto Sans SC`` with subfamily Regular or Bold. The file is written under a
    temporary name and renamed, so ``target`` is either absent or complete.
    """
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(source)
    instancer.instantiateVariableFont(font, {"wght": float(weight)}, inplace=True,
                                      optimize=False, updateFontNames=True)
    with _atomic_path(Path(target)) as tmp:
        font.save(tmp)


@contextmanager
def _atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` on success."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
