// Smoke test of the TypeScript client: openapi-typescript's types for /api/openapi.json
// with openapi-fetch. register -> create session -> list -> QR -> API key, then the key
// alone lists sessions. Type-checked by tsc against the generated types, then run.
import createClient from "openapi-fetch";

declare const process: { argv: string[]; exit(code: number): never };
import type { paths } from "./out/api";

function check(ok: boolean, what: string, value?: unknown): void {
  if (!ok) throw new Error(`${what}: ${JSON.stringify(value)}`);
}

async function main(base: string): Promise<void> {
  const anon = createClient<paths>({ baseUrl: base });
  const email = `ts-${Math.random().toString(16).slice(2, 10)}@example.com`;
  const reg = await anon.POST("/api/v1/auth/register", { body: { email, password: "correct horse battery" } });
  check(reg.response.status === 201 && !!reg.data, "register", reg.error);
  const token: string = reg.data!.access_token;
  const client = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token}` } });

  const created = await client.POST("/api/v1/sessions", { body: { name: "ts smoke", start: true } });
  check(created.response.status === 201 && !!created.data, "create session", created.error);
  const session = created.data!;
  const phone: string | null | undefined = session.phone;
  check(phone === null, "phone is null", phone);

  const list = await client.GET("/api/v1/sessions");
  check(list.data?.length === 1 && list.data[0].id === session.id, "list", list.data);

  let qrValue: string | undefined;
  const deadline = Date.now() + 30_000;
  while (!qrValue && Date.now() < deadline) {
    const qr = await client.GET("/api/v1/sessions/{id}/qr", { params: { path: { id: session.id } } });
    if (qr.data && typeof qr.data === "object") qrValue = qr.data.value;
    else await new Promise((r) => setTimeout(r, 200));
  }
  check(!!qrValue, "qr");

  const key = await client.POST("/api/v1/api-keys", { body: { name: "ts smoke" } });
  check(key.response.status === 201 && !!key.data, "api key", key.error);
  const expires: string | null | undefined = key.data!.expires_at;
  check(expires === null, "expires_at is null", expires);
  const byKey = createClient<paths>({ baseUrl: base, headers: { "X-Api-Key": key.data!.key } });
  const again = await byKey.GET("/api/v1/sessions");
  check(again.data?.[0]?.id === session.id, "list by key", again.data);
  console.log("typescript client: register, create session, list, QR, API key: ok");
}

main(process.argv[2]).catch((e) => {
  console.error(e);
  process.exit(1);
});
