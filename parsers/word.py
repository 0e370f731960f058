"""The one walk of a Word part's paragraphs, runs and tables, with legacy fonts repaired.

The text pass (parsers.extract), the form reader (parsers.forms) and the letterhead reader
(parsers.admin) all read Word through `word_events`, so TCVN3/VNI text is decoded once, the same
way, for all of them. Text typed in those fonts is stored as 8-bit Western characters that only
the font makes Vietnamese, and offices often set .VnTime in the Normal style rather than on each
run: the font is looked up as Word draws it (run, character style, paragraph style, defaults).

The three readers are written as flows (`Flow`) that yield each walk they need: alone (`run`)
each walk is done in turn, as plain functions did; read together (parsers.reading.
read_with_forms) the main part, the bulk of a report, is parsed once for all three
(`walk_together`), each reader still stopped, charged and refused by its own caps.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from parsers.legacy import convert_by_font, encoding_of_font
from parsers.ooxml import MC_FALLBACK, W_NS, forget, local_name, main_part, relationships, tags
from parsers.safety import (
    SafeZip,
    UnsafeFileError,
    has_doctype,
    parse_xml,
    reuse,
    safe_iterparse,
    unchecked_iterparse,
)

__all__ = ["Consumer", "Flow", "FlowRun", "Walk", "run", "walk", "walk_together", "word_events"]

_T = TypeVar("_T")

log = logging.getLogger(__name__)

_T_TAGS = frozenset(tags(W_NS, "t"))
_SOFT_HYPHEN_TAGS = tags(W_NS, "softHyphen")
_R_TAGS = frozenset(tags(W_NS, "r"))
_P_TAGS = frozenset(tags(W_NS, "p"))
# Qualified names in both namespace spellings, for lxml's C-level lookups (the walk asks for
# a run's font at every w:t: Python loops over children cost more than the rest of the walk).
_RPR, _RFONTS, _RSTYLE, _PPR, _PSTYLE = (tags(W_NS, n) for n in (
    "rPr", "rFonts", "rStyle", "pPr", "pStyle"))  # fmt: skip
_BASED_ON, _RPR_DEFAULT, _STYLE, _DOC_DEFAULTS = (tags(W_NS, n) for n in (
    "basedOn", "rPrDefault", "style", "docDefaults"))  # fmt: skip
_ASCII, _HANSI, _VAL, _STYLE_ID, _TYPE, _DEFAULT = (tags(W_NS, n) for n in (
    "ascii", "hAnsi", "val", "styleId", "type", "default"))  # fmt: skip
# What every legacy font name holds (parsers.legacy.encoding_of_font): a styles part without
# either cannot make any text legacy, and is not parsed at all.
_LEGACY_FONT_MARKS = (b".vn", b"vni")
_MAX_STYLE_DEPTH = 16  # basedOn chains; Word's own are a few deep, a loop must end
_MAX_RUN_DEPTH = 8  # run → hyperlink/smartTag/sdtContent… → paragraph


def _w_attr(el: Any, names: tuple[str, ...]) -> str | None:
    """An attribute in either namespace spelling (transitional or strict)."""
    for name in names:
        value = el.get(name)
        if value is not None:
            return str(value)
    return None


def _w_child(el: Any, names: tuple[str, ...]) -> Any:
    return next(el.iterchildren(*names), None) if el is not None else None


def _rpr_font(rpr: Any) -> str | None:
    """The font a w:rPr's w:rFonts names (ascii, else hAnsi)."""
    fonts = _w_child(rpr, _RFONTS)
    return (_w_attr(fonts, _ASCII) or _w_attr(fonts, _HANSI)) if fonts is not None else None


@dataclass(frozen=True)
class _Styles:
    """The fonts Word's styles give text that names none itself (styles.xml)."""

    fonts: dict[str, str]  # styleId → font, inherited through basedOn (only styles with one)
    paragraph: str | None = None  # the default paragraph style's id
    default: str | None = None  # docDefaults
    legacy: bool = False  # some style or the defaults name a TCVN3/VNI font


_NO_STYLES = _Styles({})
_STYLES: weakref.WeakKeyDictionary[SafeZip, _Styles] = weakref.WeakKeyDictionary()


def _styles(z: SafeZip) -> _Styles:
    """The document's styles, read once per zip (every part's walk needs them) and once per
    file for all its readers (parsers.safety.reuse: the styles part is often 30-350 KB)."""
    found = _STYLES.get(z)
    if found is None:
        found = _STYLES[z] = reuse(z, "styles", _read_styles)
    return found


def _may_name_legacy_font(data: bytes) -> bool:
    """Whether `data` holds a legacy font mark (".vn", "vni", any case). Both hold "vn": one
    search for it (a styles part is often 350 KB, usually with none) then a look at each place
    it is found costs a third less than searching for each mark."""
    lowered = data.lower()
    at = lowered.find(b"vn")
    for _ in range(64):
        if at < 0:
            return False
        if (at > 0 and lowered[at - 1] == 0x2E) or lowered[at + 2 : at + 3] == b"i":
            return True
        at = lowered.find(b"vn", at + 1)
    return any(mark in lowered for mark in _LEGACY_FONT_MARKS)  # "vn" everywhere: search all


def _read_styles(z: SafeZip) -> _Styles:
    main = main_part(z, "word/document.xml")
    part = next((t for _i, rtype, t in relationships(z, main) if rtype.endswith("/styles")),
                None)  # fmt: skip
    if part is None or part not in z.names:
        return _NO_STYLES
    data = z.read_xml(part)
    if not _may_name_legacy_font(data):
        return _NO_STYLES  # the usual case: Unicode fonts only, whatever inherits what
    try:
        root = parse_xml(data, z.filename, part)
    except UnsafeFileError:
        raise
    except Exception:  # a damaged styles part: Word would repair it; the text is still there
        log.info("unreadable styles in %r", z.filename, exc_info=True)
        return _NO_STYLES
    own: dict[str, tuple[str | None, str | None]] = {}  # styleId → (its font, basedOn)
    paragraph: str | None = None
    defaults = _w_child(root, _DOC_DEFAULTS)
    default = _rpr_font(_w_child(_w_child(defaults, _RPR_DEFAULT), _RPR))
    for el in root.iterchildren(*_STYLE):
        sid = _w_attr(el, _STYLE_ID)
        if not sid:
            continue
        based = _w_child(el, _BASED_ON)
        own[sid] = (_rpr_font(_w_child(el, _RPR)),
                    _w_attr(based, _VAL) if based is not None else None)  # fmt: skip
        default_flag = (_w_attr(el, _DEFAULT) or "").lower() in ("1", "true", "on")
        if _w_attr(el, _TYPE) == "paragraph" and default_flag and paragraph is None:
            paragraph = sid
    fonts: dict[str, str] = {}
    for sid in own:
        at: str | None = sid
        for _ in range(_MAX_STYLE_DEPTH):
            if at is None or at not in own:
                break
            font, at = own[at]
            if font is not None:
                fonts[sid] = font
                break
    legacy = any(encoding_of_font(f) for f in (*fonts.values(), default))
    return _Styles(fonts, paragraph, default, legacy)


def _font_of_run(run: Any, styles: _Styles) -> str | None:
    """The font Word draws a run in: its own, its character style's, its paragraph style's
    (or the default paragraph style's), then the document default."""
    if run is None or run.tag not in _R_TAGS:
        return None
    rpr = _w_child(run, _RPR)
    if rpr is not None:
        font = _rpr_font(rpr)
        if font is not None:
            return font
        rstyle = _w_child(rpr, _RSTYLE)
        font = styles.fonts.get(_w_attr(rstyle, _VAL) or "") if rstyle is not None else None
        if font is not None:
            return font
    if not styles.legacy:
        return None  # nothing inherited can be a legacy font: the usual case, cheaply
    para = run.getparent()
    for _ in range(_MAX_RUN_DEPTH):
        if para is None or para.tag in _P_TAGS:
            break
        para = para.getparent()
    style = styles.paragraph
    pstyle = _w_child(_w_child(para, _PPR), _PSTYLE)
    if pstyle is not None:
        style = _w_attr(pstyle, _VAL)
    return styles.fonts.get(style or "", styles.default)


def word_events(
    z: SafeZip, part: str, tags: tuple[str, ...]
) -> Generator[tuple[str, str, Any], None, None]:
    """(event, local tag name, element) of a Word XML part, safely parsed, without the content
    of mc:Fallback (it repeats the mc:Choice before it, e.g. a text box in two renderings).

    The one Word walk of the text, letterhead and form readers, so it also decodes legacy
    Vietnamese here, once for all of them: the text of a `t` drawn in a TCVN3/VNI font (its
    run's, its style's or the document's) is converted to Unicode in place before the `t` is
    yielded; and TCVN3's "ư", whose code is the soft hyphen's (LibreOffice writes it as
    <w:softHyphen/>), is yielded as a `t` holding the letter. Other soft hyphens are dropped.

    `tags` must include the mc:Fallback tag. The part counts against the zip's read budget.
    """
    styles = _styles(z)
    skip = 0
    reader = z.open_xml(part)
    try:
        events = safe_iterparse(reader, z.filename, part, (*tags, *_SOFT_HYPHEN_TAGS),
                                ("start", "end"))  # fmt: skip
        for event, el in events:
            if el.tag == MC_FALLBACK:
                skip += 1 if event == "start" else -1
                continue
            if skip:
                continue
            if el.tag in _T_TAGS:
                if event == "end" and el.text:
                    font = _font_of_run(el.getparent(), styles)
                    if encoding_of_font(font) is not None:
                        el.text = convert_by_font(el.text, font)
            elif el.tag in _SOFT_HYPHEN_TAGS:
                letter = convert_by_font("\u00ad", _font_of_run(el.getparent(), styles))
                if event == "end" and letter != "\u00ad":
                    el.text = letter
                    yield event, "t", el
                continue
            yield event, local_name(el.tag), el
    finally:
        z.spend(reader)


# --- one walk for several readers ---------------------------------------------------------------

# A reader's handling of one part's events: sent each (event, local name, element) word_events
# gives for its tags, it answers whether the element may now be forgotten (ooxml.forget). It
# stops by raising (a text cap reached, a bug): that is raised where the reader asked for the walk.
Consumer = Generator[bool, tuple[str, str, Any], None]


@dataclass
class Walk:
    """What a reader's flow yields to have one Word part walked through `consumer`. `shared`
    marks the main document part, which the text, letterhead and form readers of one file all
    walk: walk_together parses it once for all of them."""

    z: SafeZip
    part: str
    tags: tuple[str, ...]  # as word_events takes them, mc:Fallback included
    consumer: Consumer
    shared: bool = False


# A reader written as a generator: it yields each Walk it needs and is resumed when the walk is
# done (or has the walk's error raised into it there), then returns its result. `run` reads
# alone exactly as the plain function did; FlowRun lets several readers share their main walk.
Flow = Generator[Walk, None, _T]


def walk(request: Walk) -> None:
    """Walk one part for one reader: word_events into the consumer, forgetting what it lets go."""
    consumer = request.consumer
    next(consumer)
    events = word_events(request.z, request.part, request.tags)
    try:
        for item in events:
            if consumer.send(item):
                forget(item[2])
    finally:
        events.close()  # the part's bytes are charged now, not when the traceback goes


def _walked(request: Walk) -> BaseException | None:
    try:
        walk(request)
    except BaseException as exc:  # raised into the reader, where it asked
        return exc
    return None


@dataclass
class FlowRun:
    """One reader's flow in progress: `request` is the walk it waits for until `done`."""

    flow: Flow[Any]
    request: Walk | None = None
    done: bool = False
    value: Any = None
    diverged: bool = False  # a shared walk could not give it what its own would: read again

    def __post_init__(self) -> None:
        self._step(None, start=True)

    def _step(self, outcome: BaseException | None, start: bool = False) -> None:
        try:
            if start:
                self.request = next(self.flow)
            elif outcome is None:
                self.request = self.flow.send(None)
            else:
                self.request = self.flow.throw(outcome)
        except StopIteration as stop:
            self.done, self.request, self.value = True, None, stop.value

    def resume(self, outcome: BaseException | None) -> None:
        """Continue after the walk asked for, with its outcome (None: walked to the end)."""
        self._step(outcome)

    def until_shared(self) -> None:
        """Walk alone what the reader asks for, up to a shared walk (or its end)."""
        while self.request is not None and not self.request.shared:
            self.resume(_walked(self.request))

    def finish(self) -> Any:
        """The reader's result, every walk left done alone."""
        while self.request is not None:
            self.resume(_walked(self.request))
        return self.value

    def abandon(self) -> None:
        self.diverged, self.request = True, None
        self.flow.close()


def run(flow: Flow[_T]) -> _T:
    """A reader alone: every walk it asks for done in turn, as a plain function would."""
    result: _T = FlowRun(flow).finish()
    return result


def share_walks(runs: Sequence[FlowRun]) -> None:
    """Runs waiting for the same shared walk (same bytes, same part) do it once, together;
    each is resumed with its own outcome, or abandoned (`diverged`) to be read again alone."""
    waiting = [r for r in runs if r.request is not None and r.request.shared]
    if not waiting:
        return
    first = waiting[0].request
    assert first is not None
    group = [r for r in waiting if r.request is not None and r.request.z.data is first.z.data
             and r.request.part == first.part]  # fmt: skip
    requests = [r.request for r in group if r.request is not None]
    outcomes = walk_together(requests) if len(requests) > 1 else [_walked(requests[0])]
    for r, outcome in zip(group, outcomes, strict=True):
        if outcome is DIVERGED:
            r.abandon()
        else:
            r.resume(outcome)


class _Diverged(Exception):
    """Marks a reader the shared walk had to give up on (see walk_together)."""


DIVERGED = _Diverged()

# A finished element is forgotten when any reader lets it go: that deletes its earlier siblings.
# Under these parents that takes nothing a reader still reads (a run's properties, its paragraph's
# style); under any other (a table row misplaced in a paragraph) a reader that kept it could read
# differently, so it is read again alone.
_SAFE_PARENTS = frozenset({"body", "tc", "tbl", "txbxContent", "hdr", "ftr", "sdtContent"})


@dataclass
class _Reader:
    """One reader's side of a shared walk."""

    request: Walk
    cap: int
    tags: frozenset[str]
    checked: bool = False  # the DTD check, done on its own first event as safe_iterparse does
    outcome: BaseException | None = None
    count: int = 0  # bytes inflated when it stopped


def walk_together(requests: Sequence[Walk]) -> list[BaseException | None]:
    """One parse of a part for several readers of the same bytes, each given exactly what its
    own walk (`walk`) would give it: the same events, the same legacy text, its own caps (a
    reader whose cap the part passes stops where its own read would have: a zip bomb to it),
    its own DTD check and its own charge for the bytes inflated until it stopped. The outcome
    of each: None, the error to raise into it, or DIVERGED."""
    part = requests[0].part
    readers: list[_Reader] = []
    outcomes: list[BaseException | None] = [None] * len(requests)
    styles: _Styles | None = None
    for i, request in enumerate(requests):
        try:
            styles = _styles(request.z)  # charged to each reader first, as word_events does
        except BaseException as exc:
            outcomes[i] = exc
            continue
        next(request.consumer)
        tagset = frozenset((*request.tags, *_SOFT_HYPHEN_TAGS))
        readers.append(_Reader(request, request.z.stream_cap(), tagset))
    if not readers or styles is None:
        return outcomes
    opener = max(readers, key=lambda r: r.cap)
    try:
        source = opener.request.z.open_xml(part)
    except BaseException as exc:  # no such part, a damaged entry: the same for every reader
        for reader in readers:
            reader.request.consumer.close()
            outcomes[requests.index(reader.request)] = exc
        return outcomes
    union = tuple(dict.fromkeys(t for r in readers for t in r.tags))
    live = list(readers)
    unchecked = list(readers)
    lowest = [min(r.cap for r in live)]  # the smallest cap of a reader still reading

    def stop(reader: _Reader, outcome: BaseException | None) -> None:
        reader.outcome, reader.count = outcome, source.count
        live.remove(reader)
        lowest[0] = min((r.cap for r in live), default=0)

    def over_cap() -> None:
        for reader in list(live):
            if source.count > reader.cap:
                stop(reader, UnsafeFileError(reader.request.z.cap_problem()))

    try:
        parser = unchecked_iterparse(source, union, ("start", "end"))
        skip = 0
        for event, el in parser:
            if source.count > lowest[0]:
                over_cap()
            for reader in list(unchecked):
                if el.tag in reader.tags:
                    reader.checked = True
                    unchecked.remove(reader)
                    if reader in live and has_doctype(el):
                        stop(reader, UnsafeFileError(reader.request.z.dtd_problem(part)))
            if not live:
                break
            if el.tag == MC_FALLBACK:
                skip += 1 if event == "start" else -1
                continue
            if skip:
                continue
            every = False  # a soft hyphen's letter goes to every reader, as word_events does
            if el.tag in _T_TAGS:
                if event == "end" and el.text:
                    font = _font_of_run(el.getparent(), styles)
                    if encoding_of_font(font) is not None:
                        el.text = convert_by_font(el.text, font)
                name = "t"
            elif el.tag in _SOFT_HYPHEN_TAGS:
                letter = convert_by_font("\u00ad", _font_of_run(el.getparent(), styles))
                if event != "end" or letter == "\u00ad":
                    continue
                el.text = letter
                name, every = "t", True
            else:
                name = local_name(el.tag)
            item = (event, name, el)
            letting_go: list[_Reader] = []
            for reader in list(live):
                if not every and el.tag not in reader.tags:
                    continue
                try:
                    if reader.request.consumer.send(item):
                        letting_go.append(reader)
                except BaseException as exc:
                    stop(reader, exc)
            if letting_go:
                parent = el.getparent()
                if parent is not None and local_name(parent.tag) not in _SAFE_PARENTS:
                    for reader in list(live):
                        if reader not in letting_go:
                            stop(reader, DIVERGED)
                forget(el)
        over_cap()
        for reader in list(live):
            if not reader.checked and has_doctype(parser.root):
                stop(reader, UnsafeFileError(reader.request.z.dtd_problem(part)))
        for reader in list(live):
            stop(reader, None)
    except BaseException as exc:  # the parse failed: for every reader left
        for reader in list(live):
            if source.count > reader.cap:
                stop(reader, UnsafeFileError(reader.request.z.cap_problem()))
            elif isinstance(exc, UnsafeFileError):  # a DTD in the bytes: named for each reader
                stop(reader, UnsafeFileError(reader.request.z.dtd_problem(part)))
            else:
                stop(reader, exc)
    by_request = {id(r.request): r for r in readers}
    for i, request in enumerate(requests):
        done = by_request.get(id(request))
        if done is not None:
            request.z.charge(done.count)
            request.consumer.close()
            outcomes[i] = done.outcome
    return outcomes
