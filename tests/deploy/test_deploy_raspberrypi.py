"""deploy/raspberrypi/setup.sh run against a Debian root it may modify (ROOT=…), with recording
stand-ins for apt-get, systemctl and raspi-config on PATH. Real Pi hardware is not tested here."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from deploy_support import PI, require

TOKEN = "pairing-token-0123456789abcdefXYZ"
ADMIN_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmDZbX7iTVr3tq9T5wQn2C0K6sYkYd1HnZ1x7fA quantri@so-noi-vu"
)

FAKE_APT_GET = """#!/bin/sh
echo "apt-get $*" >> "$FAKE_LOG"
if [ "$1" = install ]; then
  for arg in "$@"; do
    case "$arg" in -*|install) ;; *)
      printf 'Package: %s\\nStatus: install ok installed\\nVersion: 1\\n\\n' "$arg" \\
        >> "$ROOT/var/lib/dpkg/status";;
    esac
  done
fi
"""
RECORDER = '#!/bin/sh\necho "{name} $*" >> "$FAKE_LOG"\n'


@pytest.fixture
def pi_root(tmp_path: Path) -> Path:
    """A Debian root with what Raspberry Pi OS has where the script looks: accounts (the
    machine's own, plus the old default user pi/raspberry), /boot/firmware, a dpkg database."""
    require("openssl", "useradd")
    root = tmp_path / "root"
    for name in ("passwd", "group", "shadow", "gshadow", "login.defs"):
        (root / "etc").mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path("/etc") / name, root / "etc" / name)
    shutil.copytree("/etc/skel", root / "etc/skel")
    raspberry = subprocess.run(
        ["openssl", "passwd", "-6", "raspberry"], capture_output=True, text=True, check=True
    ).stdout.strip()
    with (root / "etc/passwd").open("a") as passwd:
        passwd.write("pi:x:1000:1000:,,,:/home/pi:/bin/bash\n")
    with (root / "etc/group").open("a") as group:
        group.write("pi:x:1000:\n")
    with (root / "etc/shadow").open("a") as shadow:
        shadow.write(f"pi:{raspberry}:19000:0:99999:7:::\n")
    (root / "etc/fstab").write_text("proc /proc proc defaults 0 0\n")
    boot = root / "boot/firmware"
    boot.mkdir(parents=True)
    (boot / "config.txt").write_text("[all]\narm_64bit=1\n")
    (boot / "cmdline.txt").write_text("console=tty1 root=PARTUUID=1-02 rootfstype=ext4 rootwait\n")
    (boot / "ssh").touch()  # Raspberry Pi Imager's "enable SSH"
    units = root / "lib/systemd/system"
    units.mkdir(parents=True)
    for unit in ("ssh.service", "getty@.service", "lightdm.service"):
        (units / unit).touch()
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").touch()
    fakebin = tmp_path / "fakebin"
    fakebin.mkdir()
    (fakebin / "apt-get").write_text(FAKE_APT_GET)
    for name in ("systemctl", "raspi-config"):
        (fakebin / name).write_text(RECORDER.format(name=name))
    for tool in fakebin.iterdir():
        tool.chmod(0o755)
    return root


def _config(tmp_path: Path, **values: str) -> Path:
    text = (PI / "kiosk.conf.example").read_text()
    settings = {"DEVICE_TOKEN": TOKEN, "ROTATION": "90", **values}
    lines = [line for line in text.splitlines() if line.split("=", 1)[0] not in settings]
    lines += [f'{key}="{value}"' for key, value in settings.items()]
    path = tmp_path / "kiosk.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def _setup(root: Path, config: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = root.parent / "calls.log"
    log.write_text("")
    env = {
        "PATH": f"{root.parent / 'fakebin'}:{os.environ['PATH']}",
        "ROOT": str(root),
        "FAKE_LOG": str(log),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [str(PI / "setup.sh"), str(config)], env=env, capture_output=True, text=True, check=False
    )
    return done, log.read_text().splitlines()


def _snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every path under root with its type, mode, owner and content."""
    state: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(info.st_mode) else b""
        state[str(path.relative_to(root))] = (info.st_mode, info.st_uid, info.st_gid, content)
    return state


def _user(root: Path, name: str, database: str = "passwd") -> list[str]:
    for line in (root / "etc" / database).read_text().splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    raise AssertionError(f"no {name} in {database}")


def test_setup_makes_a_kiosk_and_a_second_run_changes_nothing(
    pi_root: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    first, calls = _setup(pi_root, config)
    assert first.returncode == 0, first.stderr

    assert calls == [
        "apt-get update -q",
        "apt-get install -y -q --no-install-recommends cage chromium wlr-randr",
        f"systemctl --root={pi_root} disable ssh.service",
        f"systemctl --root={pi_root} set-default graphical.target",
        f"systemctl --root={pi_root} disable lightdm.service",
        f"systemctl --root={pi_root} disable getty@tty1.service",
        f"systemctl --root={pi_root} enable mot-cua-kiosk.service",
    ]
    # The kiosk user: no password at all, no login shell; the old default password is locked.
    kiosk = _user(pi_root, "kiosk")
    assert kiosk[6] == "/usr/sbin/nologin"
    assert _user(pi_root, "kiosk", "shadow")[1] == "!"
    assert _user(pi_root, "pi", "shadow")[1].startswith("!$6$")
    assert "user pi had a default password: locked" in first.stdout
    # The configuration holds the token: readable by root and the kiosk user only.
    installed = pi_root / "etc/mot-cua/kiosk.conf"
    assert installed.read_text() == config.read_text()
    info = installed.stat()
    assert (oct(info.st_mode & 0o777), info.st_uid, str(info.st_gid)) == ("0o640", 0, kiosk[3])
    # The service that is the autologin, restarting Chromium whenever it exits.
    service = (pi_root / "etc/systemd/system/mot-cua-kiosk.service").read_text()
    for line in ("User=kiosk", "PAMName=login", "Restart=always", "TTYPath=/dev/tty1",
                 "RequiresMountsFor=/var/lib/mot-cua-kiosk"):  # fmt: skip
        assert line in service.splitlines()
    assert os.access(pi_root / "usr/local/lib/mot-cua-kiosk/kiosk-browser", os.X_OK)
    # The profile on the data partition, owned by the kiosk user only.
    profile = (pi_root / "var/lib/mot-cua-kiosk").stat()
    assert (oct(profile.st_mode & 0o777), str(profile.st_uid)) == ("0o700", kiosk[2])
    assert (pi_root / "etc/fstab").read_text().splitlines() == [
        "proc /proc proc defaults 0 0",
        "LABEL=KIOSKDATA /var/lib/mot-cua-kiosk ext4 defaults,noatime,commit=5 0 2",
    ]
    # Watchdog, no blanking, touch rotated 90° clockwise, SSH off and key-only anyway.
    assert "dtparam=watchdog=on" in (pi_root / "boot/firmware/config.txt").read_text()
    assert (
        "RuntimeWatchdogSec=14s"
        in (pi_root / "etc/systemd/system.conf.d/mot-cua-watchdog.conf").read_text()
    )
    assert (pi_root / "boot/firmware/cmdline.txt").read_text().endswith(" consoleblank=0\n")
    touch = (pi_root / "etc/udev/rules.d/99-mot-cua-touchscreen.rules").read_text()
    assert 'LIBINPUT_CALIBRATION_MATRIX}="0 -1 1 1 0 0"' in touch
    sshd = (pi_root / "etc/ssh/sshd_config.d/10-mot-cua.conf").read_text()
    assert "PasswordAuthentication no" in sshd and "PermitRootLogin no" in sshd
    assert not (pi_root / "boot/firmware/ssh").exists()

    before = _snapshot(pi_root)
    second, calls_again = _setup(pi_root, config)
    assert second.returncode == 0, second.stderr
    assert "changed:" not in second.stdout
    assert _snapshot(pi_root) == before
    # Packages are there now: no apt-get; systemctl calls are no-ops when repeated.
    assert not any(call.startswith("apt-get") for call in calls_again)


def test_changing_the_rotation_rewrites_only_the_touch_rule(pi_root: Path, tmp_path: Path) -> None:
    assert _setup(pi_root, _config(tmp_path))[0].returncode == 0
    done, _ = _setup(pi_root, _config(tmp_path, ROTATION="270"))
    assert done.returncode == 0, done.stderr
    changes = [line for line in done.stdout.splitlines() if line.startswith("changed:")]
    assert changes == [
        "changed: /etc/mot-cua/kiosk.conf",
        "changed: /etc/udev/rules.d/99-mot-cua-touchscreen.rules",
    ]
    touch = (pi_root / "etc/udev/rules.d/99-mot-cua-touchscreen.rules").read_text()
    assert 'LIBINPUT_CALIBRATION_MATRIX}="0 1 0 -1 0 1"' in touch


def test_ssh_enabled_means_one_admin_with_a_key_and_no_password(
    pi_root: Path, tmp_path: Path
) -> None:
    done, calls = _setup(pi_root, _config(tmp_path, SSH_ENABLE="yes", SSH_AUTHORIZED_KEY=ADMIN_KEY))
    assert done.returncode == 0, done.stderr
    admin = _user(pi_root, "quantri")
    assert _user(pi_root, "quantri", "shadow")[1] == "!"
    keys = pi_root / "home/quantri/.ssh/authorized_keys"
    assert keys.read_text() == ADMIN_KEY + "\n"
    assert (oct(keys.stat().st_mode & 0o777), str(keys.stat().st_uid)) == ("0o600", admin[2])
    assert "AllowUsers quantri" in (pi_root / "etc/ssh/sshd_config.d/10-mot-cua.conf").read_text()
    assert f"systemctl --root={pi_root} enable ssh.service" in calls
    assert "openssh-server" in calls[1]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"DEVICE_TOKEN": ""}, "DEVICE_TOKEN"),
        ({"SERVER_URL": "http://khaosat.example.gov.vn"}, "https://"),
        ({"ROTATION": "45"}, "ROTATION"),
        ({"SSH_ENABLE": "yes", "SSH_AUTHORIZED_KEY": ""}, "passwords are never accepted"),
        # A RAM overlay without a data partition would lose queued ratings at a power cut.
        ({"READ_ONLY_ROOT": "yes", "DATA_DEVICE": ""}, "power cut"),
    ],
)
def test_a_bad_configuration_changes_nothing(
    pi_root: Path, tmp_path: Path, values: dict[str, str], message: str
) -> None:
    before = _snapshot(pi_root)
    done, calls = _setup(pi_root, _config(tmp_path, **values))
    assert done.returncode == 1
    assert message in done.stderr
    assert calls == []
    assert _snapshot(pi_root) == before


def test_read_only_root_turns_on_the_overlay(pi_root: Path, tmp_path: Path) -> None:
    done, calls = _setup(pi_root, _config(tmp_path, READ_ONLY_ROOT="yes"))
    assert done.returncode == 0, done.stderr
    assert calls[-1] == "raspi-config nonint enable_overlayfs"


def test_kiosk_browser_opens_the_kiosk_page_with_the_token(tmp_path: Path) -> None:
    """The launcher, with stand-ins for wlr-randr and chromium, reads the config it is given."""
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    (fakebin / "chromium").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$OUT/chromium"\n')
    (fakebin / "wlr-randr").write_text(
        '#!/bin/sh\nif [ $# -eq 0 ]; then printf "HDMI-A-1 \\"x\\"\\n  Enabled: yes\\n"; '
        'else echo "$*" >> "$OUT/randr"; fi\n'
    )
    for tool in fakebin.iterdir():
        tool.chmod(0o755)
    config = _config(tmp_path, SERVER_URL="https://khaosat.example.gov.vn/")
    done = subprocess.run(
        [str(PI / "files/kiosk-browser")],
        env={"PATH": f"{fakebin}:/usr/bin:/bin", "KIOSK_CONFIG": str(config), "OUT": str(tmp_path)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    arguments = (tmp_path / "chromium").read_text().splitlines()
    assert arguments[-1] == f"https://khaosat.example.gov.vn/kiosk/#pair={TOKEN}"
    assert "--kiosk" in arguments
    assert "--user-data-dir=/var/lib/mot-cua-kiosk/chromium" in arguments
    assert (tmp_path / "randr").read_text() == "--output HDMI-A-1 --transform 90\n"


def test_the_kiosk_unit_passes_systemd_analyze_verify(pi_root: Path, tmp_path: Path) -> None:
    """The unit as installed, with its programs taken from the root it was installed into
    (cage is not installed on this machine: a stand-in takes its place)."""
    require("systemd-analyze")
    assert _setup(pi_root, _config(tmp_path))[0].returncode == 0
    cage = tmp_path / "cage"
    cage.write_text("#!/bin/sh\n")
    cage.chmod(0o755)
    launcher = "/usr/local/lib/mot-cua-kiosk/kiosk-browser"
    installed = (pi_root / "etc/systemd/system/mot-cua-kiosk.service").read_text()
    assert f"ExecStart=/usr/bin/cage -d -- {launcher}" in installed
    unit = tmp_path / "mot-cua-kiosk.service"
    unit.write_text(
        installed.replace("/usr/bin/cage", str(cage)).replace(launcher, f"{pi_root}{launcher}")
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "mot-cua-kiosk" not in result.stderr, result.stderr
