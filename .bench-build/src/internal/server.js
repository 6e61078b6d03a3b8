/**
 * @internal
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as FiberSet from "effect/FiberSet";
import * as Mailbox from "effect/Mailbox";
import * as Option from "effect/Option";
import * as Scope from "effect/Scope";
import * as Stream from "effect/Stream";
import * as net from "node:net";
import { ServerError } from "../Server.js";
import { Closed } from "../Stocking.js";
import * as stocking from "./stocking.js";
const describe = (target) => "path" in target ? target.path : `${target.host ?? "127.0.0.1"}:${target.port}`;
const listen = (target) => Effect.acquireRelease(Effect.async((resume) => {
    const server = net.createServer({ allowHalfOpen: true });
    const onError = (cause) => {
        server.close();
        resume(Effect.fail(new ServerError({ reason: "Listen", address: describe(target), cause })));
    };
    server.once("error", onError);
    const onListening = () => {
        server.off("error", onError);
        resume(Effect.succeed(server));
    };
    if ("path" in target)
        server.listen({ path: target.path, backlog: target.backlog }, onListening);
    else
        server.listen({ port: target.port, host: target.host ?? "127.0.0.1", backlog: target.backlog }, onListening);
    return Effect.sync(() => server.close());
}), (server) => Effect.async((resume) => {
    server.close(() => resume(Effect.void));
}));
const boundAddress = (server) => {
    const address = server.address();
    if (typeof address === "string")
        return { _tag: "Unix", path: address };
    return { _tag: "Tcp", address: address.address, port: address.port, family: address.family };
};
/** @internal */
export const make = (options) => Effect.gen(function* () {
    const serverScope = yield* Effect.scope;
    const mailbox = yield* Mailbox.make();
    yield* Effect.addFinalizer(() => mailbox.shutdown);
    // Connection fibers live in this set, itself in the server's scope.
    const fibers = yield* FiberSet.make();
    const run = yield* FiberSet.runtime(fibers)();
    const server = yield* listen(options);
    const { port: _port, path: _path, host: _host, backlog: _backlog, ...settings } = options;
    const accept = (socket) => Effect.gen(function* () {
        const scope = yield* Scope.fork(serverScope, { _tag: "Sequential" });
        const exit = yield* stocking
            .make({ ...settings, socket })
            .pipe(Scope.extend(scope), Effect.exit);
        if (Exit.isFailure(exit)) {
            yield* Scope.close(scope, exit);
            return;
        }
        const connection = exit.value;
        mailbox.unsafeOffer(connection);
        // Release the connection's scope once it has closed, whoever closed it.
        yield* connection.closed;
        yield* Scope.close(scope, Exit.void);
    });
    server.on("connection", (socket) => {
        run(accept(socket));
    });
    const connections = Mailbox.toStream(mailbox);
    const serve = (handler) => Effect.flatMap(FiberSet.make(), (handlers) => Stream.runForEach(connections, (connection) => FiberSet.run(handlers, handler(connection).pipe(Effect.catchAllCause((cause) => 
    // A handler ending because its connection closed is the normal end of a connection.
    Option.exists(Cause.failureOption(cause), (error) => error instanceof Closed) ||
        Cause.isInterruptedOnly(cause)
        ? Effect.void
        : Effect.logWarning("Stocking handler failed; closing its connection", cause).pipe(Effect.annotateLogs({ stockingId: connection.id }))), Effect.ensuring(connection.close))))).pipe(Effect.zipRight(Effect.never), Effect.scoped);
    return { address: boundAddress(server), connections, serve };
});
//# sourceMappingURL=server.js.map