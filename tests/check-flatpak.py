#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks flatpak/io.automateiq.Designer.json.

The manifest parses; it builds io.automateiq.Designer on the GNOME 43 runtime
(GTK 4.8 and libadwaita 1.2, as on Debian 12) and runs automateiq-designer;
its finish-args are exactly the allowed ones and nothing broad; every module
source is a release archive with a sha256 or the project's own directory; and
every shared library the built automateiq-designer links (readelf -d, NEEDED)
is in the runtime or stands for a library one of the manifest's modules
builds. Then it checks itself: copies of the manifest with broad permissions,
unpinned sources or a missing module must fail.

Usage: check-flatpak.py MANIFEST [BINARY]
       check-flatpak.py --self-test MANIFEST
"""

import copy
import json
import os
import re
import subprocess
import sys
import tempfile

APP_ID = "io.automateiq.Designer"
COMMAND = "automateiq-designer"
RUNTIME = ("org.gnome.Platform", "43")
SDK = "org.gnome.Sdk"

# all the sandbox holes the designer has; a hole not listed fails
ALLOWED_FINISH_ARGS = {
    "--share=network",  # the AutomateIQ server
    "--share=ipc",  # X11 shared memory
    "--socket=fallback-x11",
    "--socket=wayland",
    "--device=dri",  # GL rendering
    "--system-talk-name=io.automateiq.Agent1",  # the local agent
}
# with the reason they are refused, for a clearer failure
BROAD_FINISH_ARGS = {
    "--filesystem=host": "the whole file system",
    "--filesystem=host-os": "the host's /usr",
    "--filesystem=host-etc": "the host's /etc",
    "--filesystem=home": "the whole home directory",
    "--socket=session-bus": "the whole session bus",
    "--socket=system-bus": "the whole system bus",
    "--socket=x11": "X11 even on Wayland (use fallback-x11)",
    "--device=all": "every device",
    "--talk-name=org.freedesktop.Flatpak": "running commands on the host",
    "--talk-name=org.freedesktop.secrets": "the whole keyring (libsecret uses the Secret portal)",
    "--own-name=io.automateiq.Agent1": "the agent's name",
}

# Sonames the GNOME 43 runtime (over freedesktop-sdk 22.08) provides, as
# the designer links them
RUNTIME_SONAMES = {
    # C library
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libgcc_s.so.1",
    # GLib, GTK and GNOME
    "libglib-2.0.so.0", "libgobject-2.0.so.0", "libgio-2.0.so.0",
    "libgmodule-2.0.so.0", "libgthread-2.0.so.0",
    "libgtk-4.so.1", "libadwaita-1.so.0", "libgtksourceview-5.so.0",
    "libsecret-1.so.0", "libsoup-3.0.so.0", "libjson-glib-1.0.so.0",
    "libpango-1.0.so.0", "libpangocairo-1.0.so.0", "libcairo.so.2",
    "libcairo-gobject.so.2", "libgdk_pixbuf-2.0.so.0", "libgraphene-1.0.so.0",
    "libharfbuzz.so.0", "libfribidi.so.0", "libepoxy.so.0", "librsvg-2.so.2",
    "libxml2.so.2", "libpcre2-8.so.0", "libffi.so.8", "libz.so.1",
    # freedesktop-sdk
    "libcurl.so.4", "libsqlite3.so.0", "libgnutls.so.30", "libnettle.so.8",
    "libssl.so.3", "libcrypto.so.3", "libnghttp2.so.14", "libpsl.so.5",
    "libbrotlidec.so.1", "libzstd.so.1", "liblzma.so.5", "libsystemd.so.0",
    "libuuid.so.1", "libexpat.so.1",
}
# Debian's names for libraries the runtime has under another name
RUNTIME_ALIASES = {
    "libcurl-gnutls.so.4": "libcurl.so.4",
}
# module name -> sonames it stands for: the one it builds, and the one the
# same library has on Debian where the build under test ran (Lua is a static
# library in the Flatpak, liblua5.4.so.0 on Debian)
MODULE_SONAMES = {
    "libyaml": {"libyaml-0.so.2"},
    "lua": {"liblua5.4.so.0", "liblua.so.5.4"},
    "libsodium": {"libsodium.so.23"},
    "libpq": {"libpq.so.5"},
}

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_manifest(path, manifest=None):
    """Returns the list of problems of the manifest at path."""
    problems = []
    if manifest is None:
        try:
            with open(path, encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError) as e:
            return [f"{path}: {e}"]
    if not isinstance(manifest, dict):
        return [f"{path}: not a JSON object"]

    def want(key, value):
        if manifest.get(key) != value:
            problems.append(f"{key} is {manifest.get(key)!r}, not {value!r}")

    want("app-id", APP_ID)
    want("runtime", RUNTIME[0])
    want("runtime-version", RUNTIME[1])
    want("sdk", SDK)
    want("command", COMMAND)

    args = manifest.get("finish-args", [])
    for arg in args:
        if arg in BROAD_FINISH_ARGS:
            problems.append(f"finish-args: {arg} opens {BROAD_FINISH_ARGS[arg]}")
        elif arg not in ALLOWED_FINISH_ARGS:
            problems.append(f"finish-args: {arg} is not in the allow-list")
    for arg in sorted(ALLOWED_FINISH_ARGS - set(args)):
        problems.append(f"finish-args: {arg} is missing")
    if len(args) != len(set(args)):
        problems.append("finish-args: duplicates")

    project = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(path)), ".."))
    modules = manifest.get("modules")
    if not isinstance(modules, list) or not modules:
        problems.append("no modules")
        return problems
    names = []

    def walk(mods, where):
        for module in mods:
            if not isinstance(module, dict):
                problems.append(f"{where}: module {module!r} is in another file; keep them inline")
                continue
            name = module.get("name", "?")
            names.append(name)
            sources = module.get("sources", [])
            if not sources:
                problems.append(f"module {name}: no sources")
            for source in sources:
                if not isinstance(source, dict):
                    problems.append(f"module {name}: source {source!r} is in another file")
                    continue
                kind = source.get("type")
                if kind in ("archive", "file"):
                    url = source.get("url", "")
                    if not url.startswith("https://"):
                        problems.append(f"module {name}: {kind} source without an https url")
                    if not SHA256.match(source.get("sha256", "")):
                        problems.append(f"module {name}: {url or kind} has no sha256")
                elif kind == "git":
                    if not re.match(r"^[0-9a-f]{40}$", source.get("commit", "")):
                        problems.append(f"module {name}: git source not pinned to a commit")
                elif kind == "dir":
                    real = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(path)),
                                                         source.get("path", "")))
                    if real != project:
                        problems.append(f"module {name}: dir source {source.get('path')} "
                                        "is not the project")
                else:
                    problems.append(f"module {name}: source type {kind!r} is not allowed")
            walk(module.get("modules", []), f"module {name}")

    walk(modules, "modules")
    app = modules[-1] if isinstance(modules[-1], dict) else {}
    if app.get("name") != COMMAND or app.get("buildsystem") != "meson":
        problems.append(f"the last module is not {COMMAND} built with meson")
    elif "-Dtests=false" not in app.get("config-opts", []):
        problems.append(f"module {COMMAND}: no -Dtests=false")
    for module in MODULE_SONAMES:
        if module not in names:
            problems.append(f"module {module} is missing")
    return problems


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True,
                         text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", out)


def check_binary(binary, manifest_path):
    """Returns (problems, lines): each NEEDED library and where it comes from."""
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    names = set()

    def walk(mods):
        for module in mods:
            if isinstance(module, dict):
                names.add(module.get("name"))
                walk(module.get("modules", []))

    walk(manifest.get("modules", []))
    problems, lines = [], []
    for soname in needed(binary):
        runtime = RUNTIME_ALIASES.get(soname, soname)
        if runtime in RUNTIME_SONAMES:
            lines.append(f"{soname}: runtime" + (f" ({runtime})" if runtime != soname else ""))
            continue
        modules = [m for m, sonames in MODULE_SONAMES.items() if soname in sonames]
        built = [m for m in modules if m in names]
        if built:
            lines.append(f"{soname}: module {built[0]}")
        elif modules:
            problems.append(f"{soname}: module {modules[0]} builds it, but the manifest lacks it")
        else:
            problems.append(f"{soname}: neither in the GNOME {RUNTIME[1]} runtime "
                            "nor built by a module")
    return problems, lines


def self_test(path):
    """The manifest passes, and broken copies of it fail."""
    with open(path, encoding="utf-8") as f:
        good = json.load(f)
    failures = 0
    if check_manifest(path, good):
        print(f"FAIL self-test: {path} itself fails", file=sys.stderr)
        failures += 1

    def broken(label, mutate, expect):
        nonlocal failures
        manifest = copy.deepcopy(good)
        mutate(manifest)
        # written out and read back, as the real check reads it; the copy's
        # own project dir is the real one
        with tempfile.TemporaryDirectory() as tmp:
            os.mkdir(os.path.join(tmp, "flatpak"))
            bad = os.path.join(tmp, "flatpak", os.path.basename(path))
            for module in manifest["modules"]:
                for source in module.get("sources", []):
                    if source.get("type") == "dir" and source.get("path") == "..":
                        source["path"] = os.path.join(os.path.dirname(os.path.abspath(path)),
                                                      "..")
            with open(bad, "w", encoding="utf-8") as f:
                json.dump(manifest, f)
            problems = check_manifest(bad)
        if any(expect in p for p in problems):
            print(f"ok   self-test: {label} fails ({expect})")
        else:
            print(f"FAIL self-test: {label} passes: {problems}", file=sys.stderr)
            failures += 1

    def add_arg(arg):
        return lambda m: m["finish-args"].append(arg)

    def module(m, name):
        return next(x for x in m["modules"] if x.get("name") == name)

    def drop_sha(m):
        del module(m, "libyaml")["sources"][0]["sha256"]

    def dir_elsewhere(m):
        module(m, COMMAND)["sources"][0]["path"] = "/tmp"

    broken("--filesystem=host", add_arg("--filesystem=host"), "--filesystem=host opens")
    broken("--filesystem=home", add_arg("--filesystem=home"), "--filesystem=home opens")
    broken("--socket=session-bus", add_arg("--socket=session-bus"), "whole session bus")
    broken("--talk-name=org.freedesktop.Flatpak", add_arg("--talk-name=org.freedesktop.Flatpak"),
           "running commands on the host")
    broken("an unknown hole", add_arg("--filesystem=xdg-download"), "not in the allow-list")
    broken("no Wayland", lambda m: m["finish-args"].remove("--socket=wayland"),
           "--socket=wayland is missing")
    broken("runtime 46", lambda m: m.update({"runtime-version": "46"}), "runtime-version")
    broken("another app-id", lambda m: m.update({"app-id": "org.example.App"}), "app-id")
    broken("an archive without sha256", drop_sha, "has no sha256")
    broken("a git source on a branch",
           lambda m: module(m, "lua").update(
               {"sources": [{"type": "git", "url": "https://github.com/lua/lua", "branch": "master"}]}),
           "not pinned")
    broken("a dir source elsewhere", dir_elsewhere, "is not the project")
    broken("no libsodium module",
           lambda m: m["modules"].remove(module(m, "libsodium")), "module libsodium is missing")

    # the libraries the binary links, with readelf's answer made up
    global needed
    real_needed = needed
    try:
        for label, sonames, drop, expect in [
            ("a library of no runtime and no module", ["libpolkit-gobject-1.so.0"], None,
             "nor built by a module"),
            ("a library whose module is missing", ["libsodium.so.23"], "libsodium",
             "the manifest lacks it"),
        ]:
            needed = lambda binary, sonames=sonames: sonames  # noqa: E731
            manifest = copy.deepcopy(good)
            if drop:
                manifest["modules"].remove(module(manifest, drop))
            with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
                json.dump(manifest, f)
                f.flush()
                problems, _ = check_binary("/nonexistent", f.name)
            if any(expect in p for p in problems):
                print(f"ok   self-test: linking {label} fails ({expect})")
            else:
                print(f"FAIL self-test: linking {label} passes: {problems}", file=sys.stderr)
                failures += 1
    finally:
        needed = real_needed
    return failures


def main(argv):
    if len(argv) >= 3 and argv[1] == "--self-test":
        return 1 if self_test(argv[2]) else 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    problems = check_manifest(path)
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    if not problems:
        print(f"ok   {os.path.basename(path)}: {APP_ID} on {RUNTIME[0]}//{RUNTIME[1]}, "
              f"finish-args {' '.join(sorted(ALLOWED_FINISH_ARGS))}, every source pinned")
    failures = len(problems)
    if len(argv) >= 3:
        binary = argv[2]
        if not os.path.exists(binary):
            print(f"FAIL {binary} is not built", file=sys.stderr)
            failures += 1
        else:
            bin_problems, lines = check_binary(binary, path)
            for line in lines:
                print(f"     {line}")
            for p in bin_problems:
                print(f"FAIL {os.path.basename(binary)} links {p}", file=sys.stderr)
            if not bin_problems:
                print(f"ok   every library {os.path.basename(binary)} links is in the runtime "
                      "or built by a module")
            failures += len(bin_problems)
    if not problems:
        failures += self_test(path)
    if failures:
        print(f"{failures} check(s) failed", file=sys.stderr)
        return 1
    print("all flatpak checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
