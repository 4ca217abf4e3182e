// Starts the Go server binaries that the interop tests run against.
//
// A server binary is expected to read $PORT, listen on 127.0.0.1 (and ::1 if
// it can), and print "READY <port>" on stdout once it accepts connections.

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import net from "node:net";
import readline from "node:readline";

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const STDERR_KEEP = 16 * 1024; // bytes of stderr kept for error messages

// Children still running; killed if the test process exits without stopping them.
const running = new Set();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Returns the path of a server binary named by an environment variable, or
 * throws an error that says how to build it.
 */
export function binFromEnv(name, buildHint) {
  const path = process.env[name];
  if (!path) {
    throw new Error(
      `${name} is not set: build the server and point ${name} at it` +
        (buildHint ? `, e.g. ${buildHint}` : "")
    );
  }
  try {
    accessSync(path, constants.X_OK);
  } catch (err) {
    throw new Error(`${name}=${path} is not an executable file: ${err.message}`);
  }
  return path;
}

/** Finds a TCP port that is free on 127.0.0.1 by listening on port 0. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/**
 * Spawns binPath (a path, or a command as an array such as ["node", "app.mjs"])
 * with PORT set to a free port (plus the given env), waits for
 * its "READY <port>" line and returns { port, url, stop, child }.
 * stop() sends SIGTERM and resolves when the process has exited; it sends
 * SIGKILL if the process is still running 5 s later.
 */
export async function startServer(binPath, env = {}) {
  if (!binPath) {
    throw new Error("startServer: no server binary given (is its *_BIN environment variable set?)");
  }
  // The free port can be taken by someone else before the server binds it;
  // try a few ports before giving up.
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(binPath, port, env);
    } catch (err) {
      lastErr = err;
      if (!/address already in use/i.test(err.message)) throw err;
    }
  }
  throw lastErr;
}

function launch(binPath, port, env) {
  return new Promise((resolve, reject) => {
    // binPath is a path, or a command line as an array (e.g. ["node", "app.mjs"]).
    const [cmd, ...args] = Array.isArray(binPath) ? binPath : [binPath];
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);

    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      if (process.env.INTEROP_VERBOSE) process.stderr.write(chunk);
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });

    const exited = new Promise((res) => {
      if (child.exitCode !== null || child.signalCode !== null) res();
      else child.once("exit", res);
    });
    child.once("exit", () => running.delete(child));

    let ready = false;
    const fail = (msg) => {
      if (ready) return;
      ready = true; // settle once
      clearTimeout(timer);
      child.kill("SIGKILL");
      const tail = stderr.trim() ? `\n--- server stderr ---\n${stderr.trim()}` : "";
      reject(new Error(`${binPath} (PORT=${port}): ${msg}${tail}`));
    };

    const timer = setTimeout(
      () => fail(`no "READY <port>" line on stdout within ${READY_TIMEOUT_MS / 1000} s`),
      READY_TIMEOUT_MS
    );
    child.once("error", (err) => fail(`could not start: ${err.message}`));
    child.once("exit", (code, signal) =>
      fail(`exited before it was ready (code ${code}, signal ${signal})`)
    );

    // Keep reading stdout after READY so that the pipe never fills up.
    const lines = readline.createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      if (process.env.INTEROP_VERBOSE) process.stdout.write(`[server] ${line}\n`);
      if (ready) return;
      const m = /^READY (\d+)\s*$/.exec(line);
      if (!m) return;
      ready = true;
      clearTimeout(timer);
      const readyPort = Number(m[1]);
      let stopping;
      const stop = () => {
        stopping ??= (async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill("SIGTERM");
          const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
          await exited;
          clearTimeout(kill);
        })();
        return stopping;
      };
      resolve({
        port: readyPort,
        url: `http://127.0.0.1:${readyPort}`,
        stop,
        child,
        stderr: () => stderr,
      });
    });
  });
}
