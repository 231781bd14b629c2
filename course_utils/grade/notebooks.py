"""Reading notebooks and running one in a fresh kernel under a wall-clock limit, an output cap and a memory limit.

The test suite reads notebooks with the same helpers (tests/notebook_tools.py).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass

import nbformat
import zmq
import zmq.asyncio
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def tagged(nb, tag):
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def text_of(cell) -> str:
    """Everything a code cell showed as text: streams, then text/plain of results and displays."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.get("text", ""))
        elif "text/plain" in output.get("data", {}):
            parts.append(output.data["text/plain"])
    return "".join(parts)


def result_text(cell) -> str:
    """The text/plain of what a code cell's last expression displayed ('' if nothing)."""
    return "".join(o.data.get("text/plain", "") for o in cell.get("outputs", []) if o.output_type == "execute_result")


def error_of(cell):
    """The first error output of a code cell, or None."""
    return next((o for o in cell.get("outputs", []) if o.output_type == "error"), None)


# The cap counts characters where the kernel writes them (integrity.preamble_source) and bytes where this
# process receives them; a message may carry the whole capped buffer in UTF-8 and JSON, so up to 4x plus room.
ENVELOPE = 4


class CappedClient(NotebookClient):
    """A NotebookClient that stops the whole notebook at a deadline or past a number of output bytes, and starts
    its kernel with a memory limit (``cap_memory``).

    The grader's first cell (integrity.preamble_source) stops a flood of
    printing inside the kernel; this client is the second guard, for output
    sent any other way: ZeroMQ drops any one message over the cap, every message
    is counted before it is stored, and past the cap the client keeps nothing
    more and kills the kernel. A notebook costs the grader a few times the cap in
    memory at most, however much it prints.
    """

    def __init__(self, nb, *, time_limit_s: float, output_limit_bytes: int, memory_limit_bytes: int | None = None,
                 **kwargs):
        super().__init__(nb, timeout_func=self._time_left, allow_errors=True, **kwargs)
        self.time_limit_s, self.output_limit_bytes = time_limit_s, output_limit_bytes
        self.memory_limit_bytes, self.memory_capped = memory_limit_bytes, False
        self.output_bytes, self.overflowed, self.deadline, self.zmq_context = 0, False, None, None

    async def async_start_new_kernel(self, **kwargs):
        await super().async_start_new_kernel(**kwargs)
        if self.memory_limit_bytes:  # before any cell runs; processes the kernel starts inherit the limit
            self.memory_capped = cap_memory(self.km.provisioner.process.pid, self.memory_limit_bytes)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        # Defaults for the client's sockets: one message larger than that is dropped by
        # ZeroMQ before it reaches this process, and at most 50 wait in a queue.
        self.zmq_context = zmq.asyncio.Context()
        self.zmq_context.setsockopt(zmq.MAXMSGSIZE, self.output_limit_bytes * ENVELOPE)
        self.zmq_context.setsockopt(zmq.RCVHWM, 50)
        make_client = km.client
        km.client = lambda **kwargs: make_client(context=self.zmq_context, **kwargs)
        return km

    def _time_left(self, cell) -> float:
        return max(1.0, self.deadline - time.monotonic())

    def process_message(self, msg, cell, cell_index):
        if self.overflowed:
            return None  # the kernel is being killed: drop what is still in flight
        content = msg.get("content", {})
        self.output_bytes += len(json.dumps(content, default=str)) if msg.get("msg_type") != "status" else 0
        if self.output_bytes > self.output_limit_bytes * ENVELOPE:
            self.overflowed = True
            self._kill_kernel_now()
            return None
        return super().process_message(msg, cell, cell_index)

    def _kill_kernel_now(self) -> None:
        """SIGKILL the kernel's process group at once; nbclient then sees a dead kernel within a second.

        Synchronous on purpose: while a flood of output keeps this loop busy, a
        scheduled coroutine would not run until the flood ends.
        """
        provisioner = self.km.provisioner
        pgid = getattr(provisioner, "pgid", None)
        try:
            if pgid and hasattr(os, "killpg"):
                os.killpg(pgid, signal.SIGKILL)
            elif provisioner.process is not None:
                provisioner.process.kill()
        except OSError:
            pass  # already gone


def cap_memory(pid: int, limit_bytes: int) -> bool:
    """Limit a process's private memory (RLIMIT_DATA: its heap and anonymous mappings, where arrays and tensors
    live) to ``limit_bytes``: past it, an allocation fails (MemoryError) instead of taking the machine's memory.
    Linux only (elsewhere, or if refused: False)."""
    try:
        import resource

        resource.prlimit(pid, resource.RLIMIT_DATA, (limit_bytes, limit_bytes))
        return True
    except (ImportError, AttributeError, OSError, ValueError):
        return False


@dataclass
class RunOutcome:
    """How a run ended: "finished", "timeout", "output limit" or "kernel died", and what it said."""

    status: str
    seconds: float
    detail: str = ""


def run_capped(nb, cwd: str, time_limit_s: float, output_limit_bytes: int,
               memory_limit_bytes: int | None = None) -> RunOutcome:
    """Execute ``nb`` in place in a fresh python3 kernel started in ``cwd``; never raises on the notebook's code."""
    client = CappedClient(nb, time_limit_s=time_limit_s, output_limit_bytes=output_limit_bytes,
                          memory_limit_bytes=memory_limit_bytes,
                          kernel_name="python3", shutdown_kernel="immediate", startup_timeout=120)
    too_much = f"the notebook printed more than {output_limit_bytes / 1e6:g} MB and was stopped"
    started = time.monotonic()
    client.deadline = started + time_limit_s  # one limit for the whole notebook, kernel start included
    try:
        # The kernel's own stdout/stderr (C libraries, os.write) go nowhere, not into the grader's terminal.
        client.execute(cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        status, detail = "finished", ""
    except CellTimeoutError:
        status, detail = "timeout", f"the notebook ran for more than {time_limit_s:g} s and was stopped"
    except DeadKernelError:
        if client.overflowed:
            status, detail = "output limit", too_much
        else:
            memory = (f"out of memory, or over the grader's memory limit of {memory_limit_bytes / 2**30:g} GiB"
                      if client.memory_capped else "or out of memory")
            status, detail = "kernel died", f"the Python kernel died while running it (os._exit, a crash, {memory})"
    finally:
        if client.zmq_context is not None:
            client.zmq_context.destroy(linger=0)
    if client.overflowed and status == "finished":  # the cap was reached on the last cell's tail
        status, detail = "output limit", too_much
    return RunOutcome(status, time.monotonic() - started, detail)
