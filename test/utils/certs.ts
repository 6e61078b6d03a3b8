import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/**
 * A throwaway CA, a server certificate it signed for localhost / 127.0.0.1, and an unrelated CA, made with
 * openssl in a temp dir (EC keys: quick) and removed with the scope. Test-only: never real keys.
 */
export const makeCerts = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stockings-tls-"))
    const run = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })
    const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", ...newKey, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA")
    run("req", ...newKey, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    fs.writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    const sign = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf"]
    run("x509", "-req", "-in", "server.csr", ...sign, "-out", "server.pem")
    run("req", "-x509", ...newKey, "-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=Other CA")
    const file = (name: string) => path.join(dir, name)
    return {
      dir,
      caPath: file("ca.pem"),
      certPath: file("server.pem"),
      keyPath: file("server.key"),
      ca: fs.readFileSync(file("ca.pem")),
      cert: fs.readFileSync(file("server.pem")),
      key: fs.readFileSync(file("server.key")),
      otherCa: fs.readFileSync(file("other.pem"))
    }
  }),
  ({ dir }) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)
