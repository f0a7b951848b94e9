"""OpenSTA access shared by the layers: the design-loading Tcl and a long-lived session.

Why in the core: the signoff timing and power steps (``signoff``) and the timing repair of the
physical engine (``pnr.engine.rsz``) load a design into OpenSTA the same way (Liberty,
netlist, the SDC with the compatibility layer for current-OpenSTA SDCs, propagated clocks),
and the layer table (``tests/test_layering.py``) lets ``pnr`` and ``signoff`` share only the
core.

:class:`StaSession` keeps one ``sta`` process alive for a repair loop: commands go to its
stdin, one escaped line per script, a small Tcl read-eval loop (:data:`DRIVER_TCL`) evaluates
each under ``catch`` and answers with one tagged line ``<TAG> <status> <result>`` (newlines and
backslashes escaped), so a query costs a pipe round trip instead of a process start and a
Liberty parse (about 0.6 s per corner for sky130hd).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType

from gptnano.step import StepError
from gptnano.toolargs import tcl_word

STA_EXE = "sta"
# Newer-OpenSTA SDC commands (``all_inputs -no_clocks``, which ORFS's SDCs use) defined on top
# of the 2019 OpenSTA Debian ships, so a user's SDC runs as written.
SDC_COMPAT_TCL = Path(__file__).with_name("sdc_compat.tcl")
SESSION_TAG = "GPTNANO_REPLY"

# Each request is one line (the command with backslash and newline escaped, so a multi-line
# script is one request) and gets exactly one reply line.
DRIVER_TCL = r"""fconfigure stdout -buffering line
while {[gets stdin ::gptnano_line] >= 0} {
  set ::gptnano_cmd [string map {"\\\\" "\\" "\\n" "\n"} $::gptnano_line]
  set ::gptnano_status [catch {uplevel #0 $::gptnano_cmd} ::gptnano_result]
  puts "TAG $::gptnano_status [string map {"\\" "\\\\" "\n" "\\n"} $::gptnano_result]"
  flush stdout
}
""".replace("TAG", SESSION_TAG)


def load_script(liberty: Path, netlist: Path, top: str, sdc: Path, spef: Path | None) -> str:
    """The Tcl that loads one corner's design (shared by timing, power and repair)."""
    lines = [f"read_liberty {tcl_word(liberty)}", f"read_verilog {tcl_word(netlist)}",
             f"link_design {tcl_word(top)}", f"source {tcl_word(SDC_COMPAT_TCL)}",
             f"read_sdc {tcl_word(sdc)}",
             # Signoff timing: the clock is a real (routed, unbuffered) net, so its arrival
             # at each flop is computed, not assumed ideal.
             "set_propagated_clock [all_clocks]"]
    if spef is not None:
        lines.append(f"read_spef {tcl_word(spef)}")
    return "\n".join(lines) + "\n"


def multi_corner_load_script(liberties: dict[str, Path], netlist: Path, top: str, sdc: Path
                             ) -> str:
    """:func:`load_script` for several corners in one process (``define_corners``): one
    Liberty per corner, the same netlist and SDC; queries then name the corner."""
    lines = [f"define_corners {' '.join(liberties)}"]
    lines += [f"read_liberty -corner {c} {tcl_word(lib)}" for c, lib in liberties.items()]
    one = load_script(next(iter(liberties.values())), netlist, top, sdc, None)
    return "\n".join(lines) + "\n" + one.split("\n", 1)[1]


def escape(text: str) -> str:
    """A script as one request line: ``\\`` -> ``\\\\``, newline -> ``\\n``."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def unescape(text: str) -> str:
    """Inverse of the driver's ``string map`` (``\\\\`` -> ``\\``, ``\\n`` -> newline)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class StaSession:
    """One long-lived OpenSTA process; :meth:`eval` runs a Tcl command and returns its result.

    ``log`` receives everything OpenSTA prints besides the replies (warnings, reports)."""

    def __init__(self, log: Path, exe: str = STA_EXE) -> None:
        self.log_path = log
        driver = log.with_suffix(".driver.tcl")
        driver.write_text(DRIVER_TCL)
        self._log = log.open("w")
        self._pending = ""          # the script :meth:`receive` answers (for messages)
        try:
            self.proc = subprocess.Popen(
                [exe, "-no_init", "-no_splash", "-exit", str(driver)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=self._log, text=True, bufsize=1)
        except OSError as exc:
            self._log.close()
            raise StepError(f"cannot start OpenSTA ({exe}): {exc}") from exc

    def eval(self, tcl: str) -> str:
        """Evaluate ``tcl`` (one complete command, may span lines); a Tcl error raises
        :class:`StepError` with OpenSTA's message and the log's path."""
        self.send(tcl)
        return self.receive()

    def send(self, tcl: str) -> None:
        """The first half of :meth:`eval`: hand ``tcl`` to OpenSTA without waiting, so several
        sessions (one per corner) compute at once; :meth:`receive` collects the answer. Every
        ``send`` must be followed by exactly one ``receive`` before the next ``send``."""
        if self.proc.stdin is None or self.proc.stdout is None or self.proc.poll() is not None:
            raise StepError(f"OpenSTA session has ended; log: {self.log_path}")
        self.proc.stdin.write(escape(tcl) + "\n")
        self.proc.stdin.flush()
        self._pending = tcl

    def receive(self) -> str:
        """The answer to the last :meth:`send` (a Tcl error raises :class:`StepError`)."""
        tcl = self._pending
        if self.proc.stdout is None:
            raise StepError(f"OpenSTA session has ended; log: {self.log_path}")
        prefix = SESSION_TAG + " "
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise StepError(f"OpenSTA exited during '{tcl[:80]}'; log: {self.log_path}")
            if line.startswith(prefix):
                status, _, result = line[len(prefix):].rstrip("\n").partition(" ")
                result = unescape(result)
                if status not in ("0", "2"):  # TCL_OK, TCL_RETURN
                    raise StepError(f"OpenSTA error in '{tcl[:120]}': {result}; "
                                    f"log: {self.log_path}")
                return result
            self._log.write(line)

    def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self._log.write(self.proc.stdout.read())
            self.proc.stdout.close()
        self._log.close()

    def __enter__(self) -> StaSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
