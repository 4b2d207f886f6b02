// Preloaded (node --import) into the MCP TypeScript SDK's example server
// (dist/esm/examples/server/simpleStreamableHttp.js --oauth) by pctx's end-to-end OAuth
// test, internal/hardening/oauth_test.go.
//
// The example's demo provider (demoInMemoryOAuthProvider.js) issues one-hour access
// tokens, no refresh tokens, and answers the refresh_token grant with "Not implemented
// for example demo". To test refresh, this gives its access tokens the lifetime in
// $DEMO_TOKEN_TTL_SECONDS and implements the refresh_token grant on the same class:
// rotating refresh tokens, bound to the client and to the resource (RFC 8707), which
// must be sent again. Everything else (registration, authorization, PKCE, token
// verification by introspection, the strict resource check) is the SDK's own.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const { DemoInMemoryAuthProvider } = await import(pathToFileURL(process.env.DEMO_PROVIDER_JS).href);
const ttl = Number(process.env.DEMO_TOKEN_TTL_SECONDS || '3600');
const refreshTokens = new Map();
const proto = DemoInMemoryAuthProvider.prototype;
const exchangeCode = proto.exchangeAuthorizationCode;

function withRefresh(grant) {
    const rt = randomUUID();
    refreshTokens.set(rt, grant);
    return rt;
}

proto.exchangeAuthorizationCode = async function (client, code, verifier, redirectUri, resource) {
    const res = await exchangeCode.call(this, client, code, verifier, redirectUri, resource);
    const data = this.tokens.get(res.access_token);
    data.expiresAt = Date.now() + ttl * 1000;
    console.log('[pctx-test] authorization_code grant served');
    return {
        ...res,
        expires_in: ttl,
        refresh_token: withRefresh({ clientId: client.client_id, scopes: data.scopes, resource: data.resource })
    };
};

proto.exchangeRefreshToken = async function (client, refreshToken, _scopes, resource) {
    const grant = refreshTokens.get(refreshToken);
    if (!grant || grant.clientId !== client.client_id) {
        throw new Error('Invalid refresh token');
    }
    if (String(resource) !== String(grant.resource)) {
        throw new Error(`Invalid resource: ${resource}`);
    }
    refreshTokens.delete(refreshToken); // single use
    const token = randomUUID();
    this.tokens.set(token, {
        token,
        clientId: client.client_id,
        scopes: grant.scopes,
        expiresAt: Date.now() + ttl * 1000,
        resource: grant.resource,
        type: 'access'
    });
    console.log('[pctx-test] refresh_token grant served');
    return {
        access_token: token,
        token_type: 'bearer',
        expires_in: ttl,
        refresh_token: withRefresh(grant),
        scope: grant.scopes.join(' ')
    };
};
