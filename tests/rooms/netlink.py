"""A weak link between two sites, built from what this kernel offers (no netem): two network namespaces joined by
a TUN pair, with the delay added in user space, the rate capped by ``tc tbf`` and random loss by the iptables
``statistic`` match on each end.

::

      namespace <prefix>site            namespace <prefix>hub                 root namespace
      10.218.0.1  <prefix>s0  ==TUN pair==  <prefix>h0  10.218.0.2
        (tbf, loss)    relay process: delay     (tbf, loss)
                                             10.218.9.2 <prefix>v1 --veth-- <prefix>v0 10.218.9.1  app server, coturn

The site (a mobile unit on 3G) reaches the other site and the server only across the link; the hub (the central
platform) forwards between the link and the server. A browser is put on a side by launching Chromium through
``chromium_in(side)`` (a wrapper that runs it under ``ip netns exec``): Playwright's pipe to it survives the exec.

Run as a script (``python tests/rooms/netlink.py relay ...``) it is the relay process itself. Needs root, ``ip``,
``tc``, ``iptables`` and /dev/net/tun; ``missing()`` says what is absent so that tests skip cleanly.
"""

from __future__ import annotations

import collections
import ctypes
import fcntl
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SITE_ADDRESS = "10.218.0.1"
HUB_ADDRESS = "10.218.0.2"
SERVER_ADDRESS = "10.218.9.1"
HUB_UPLINK = "10.218.9.2"
CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MTU = 1400  # below the path's 1500 so that a TURN-wrapped packet never needs fragmenting


def missing() -> str | None:
    """Why a link cannot be built here (not root, a tool or the TUN device absent), or None."""
    if os.geteuid() != 0:
        return "building a link needs root (network namespaces, tc, iptables)"
    for tool in ("ip", "tc", "iptables"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y iproute2 iptables)"
    if not Path("/dev/net/tun").exists():
        return "/dev/net/tun is absent"
    return None


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()}")


class Link:
    """The two namespaces and the relay between them; ``shape()`` changes the rate and loss while a call runs."""

    def __init__(self, prefix: str = "rl", *, delay_ms: float = 0, rate_kbit: int | None = None, loss: float = 0):
        self.prefix = prefix
        self.site = f"{prefix}site"
        self.hub = f"{prefix}hub"
        self.delay_ms = delay_ms
        self.rate_kbit = rate_kbit
        self.loss = loss
        self.relay = None
        self.folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-link-"))

    def device(self, side: str) -> str:
        """The link's end in ``side`` (the namespace's name)."""
        return f"{self.prefix}s0" if side == self.site else f"{self.prefix}h0"

    def __enter__(self) -> Link:
        self.close()  # what a killed earlier run left
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _build(self) -> None:
        for namespace in (self.site, self.hub):
            _run("ip", "netns", "add", namespace)
            _run("ip", "-n", namespace, "link", "set", "lo", "up")
        self.relay = subprocess.Popen(
            [sys.executable, __file__, "relay", self.site, self.device(self.site), self.hub, self.device(self.hub),
             str(self.delay_ms / 1000)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.relay.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the link's relay did not start: {self.relay.stderr.read()}")
        for namespace, address in ((self.site, SITE_ADDRESS), (self.hub, HUB_ADDRESS)):
            device = self.device(namespace)
            _run("ip", "-n", namespace, "link", "set", device, "mtu", str(MTU), "up")
            _run("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", device)
        _run("ip", "-n", self.site, "route", "add", "default", "dev", self.device(self.site))
        # The hub's way to the server (and the site's, through the hub).
        _run("ip", "link", "add", f"{self.prefix}v0", "type", "veth", "peer", "name", f"{self.prefix}v1")
        _run("ip", "link", "set", f"{self.prefix}v1", "netns", self.hub)
        _run("ip", "addr", "add", f"{SERVER_ADDRESS}/30", "dev", f"{self.prefix}v0")
        _run("ip", "link", "set", f"{self.prefix}v0", "up")
        _run("ip", "-n", self.hub, "addr", "add", f"{HUB_UPLINK}/30", "dev", f"{self.prefix}v1")
        _run("ip", "-n", self.hub, "link", "set", f"{self.prefix}v1", "up")
        _run("ip", "netns", "exec", self.hub, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # Gone with the veth when the hub's namespace is deleted.
        _run("ip", "route", "add", "10.218.0.0/24", "via", HUB_UPLINK, "dev", f"{self.prefix}v0")
        self.shape(rate_kbit=self.rate_kbit, loss=self.loss)

    def shape(self, *, rate_kbit: int | None, loss: float = 0) -> None:
        """Cap both directions at ``rate_kbit`` (None: no cap) and drop ``loss`` (0..1) of the packets at random."""
        self.rate_kbit, self.loss = rate_kbit, loss
        for namespace in (self.site, self.hub):
            device = self.device(namespace)
            subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "del", "dev", device, "root"],
                           capture_output=True)
            if rate_kbit:
                # A queue of at most 250 ms, as a 3G modem's buffer: beyond it the link drops, as a real one.
                _run("ip", "netns", "exec", namespace, "tc", "qdisc", "add", "dev", device, "root", "tbf",
                     "rate", f"{rate_kbit}kbit", "burst", "3000", "latency", "250ms")
            _run("ip", "netns", "exec", namespace, "iptables", "-F", "OUTPUT")
            if loss:
                _run("ip", "netns", "exec", namespace, "iptables", "-A", "OUTPUT", "-o", device, "-m", "statistic",
                     "--mode", "random", "--probability", f"{loss:.4f}", "-j", "DROP")

    def dropped(self) -> int:
        """Packets the loss rules have dropped so far, both ends together."""
        total = 0
        for namespace in (self.site, self.hub):
            out = subprocess.run(["ip", "netns", "exec", namespace, "iptables", "-L", "OUTPUT", "-v", "-n", "-x"],
                                 capture_output=True, text=True).stdout
            total += sum(int(line.split()[0]) for line in out.splitlines() if "statistic" in line)
        return total

    def chromium_in(self, side: str, executable: str = "/usr/bin/chromium") -> str:
        """A Chromium to give Playwright as ``executable_path``: the real one, run inside ``side``'s namespace."""
        wrapper = self.folder / f"chromium-{side}"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {side} {executable} "$@"\n')
        wrapper.chmod(0o755)
        return str(wrapper)

    def close(self) -> None:
        """Stop the relay and delete the namespaces (their devices, routes and rules go with them)."""
        if self.relay is not None:
            self.relay.terminate()
            try:
                self.relay.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.relay.kill()
                self.relay.wait()
            self.relay = None
        for namespace in (self.site, self.hub):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", f"{self.prefix}v0"], capture_output=True)


def _tun_in(namespace: str, name: str) -> int:
    """A TUN device named ``name`` created inside ``namespace``; its file descriptor, non-blocking."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), f"setns {namespace}")
        tun = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
        return tun
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
        os.close(target)


def relay(site: str, site_device: str, hub: str, hub_device: str, delay_s: float) -> None:
    """Carry packets between the two TUN devices, each ``delay_s`` late (the constant delay keeps them in order)."""
    ends = {_tun_in(site, site_device): None, _tun_in(hub, hub_device): None}
    first, second = ends
    other = {first: second, second: first}
    waiting = collections.deque()  # (due, fd, packet), due times increasing
    print("ready", flush=True)
    while True:
        timeout = max(0.0, waiting[0][0] - time.monotonic()) if waiting else None
        readable, _, _ = select.select(list(ends), [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                waiting.append((now + delay_s, other[fd], packet))
        while waiting and waiting[0][0] <= time.monotonic():
            _due, fd, packet = waiting.popleft()
            try:
                os.write(fd, packet)
            except OSError:
                pass  # a full queue on the far side drops the packet, as a link would


if __name__ == "__main__" and sys.argv[1:2] == ["relay"]:
    relay(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]))
