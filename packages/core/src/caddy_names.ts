/**
 * Names from Caddy's JSON config, so that a config error can tell a real Caddy module or option
 * that Ferry does not implement ("Caddy's reverse_proxy option "dynamic_upstreams" is not
 * supported by Ferry") from a typo ("unknown option … did you mean "routes"?").
 *
 * Source: caddyserver/caddy at commit 0cf03d32f7d99cf160d5375e8a40fbe3d910d515 (2026-08-21):
 * module IDs from each module's `CaddyModule()` (`ID: "http.handlers.…"`), option names from the
 * `json:"…"` tags of the config structs — caddy.go (Config), admin.go (AdminConfig),
 * modules/caddyhttp/{app,server,routes,subroute,staticresp,staticerror,responsematchers,
 * logging,metrics,autohttps,matchers,ip_matchers,urlpatternmatcher,vars}.go,
 * modules/caddyhttp/{headers,encode,encode/gzip,encode/zstd,requestbody,rewrite}/,
 * modules/caddyhttp/fileserver/{staticfiles,browse,matcher}.go,
 * modules/caddyhttp/reverseproxy/{reverseproxy,hosts,healthchecks,httptransport,
 * selectionpolicies}.go and fastcgi/fastcgi.go, modules/metrics/metrics.go,
 * modules/caddytls/{tls,fileloader,pemloader,connpolicy,certselection,automation,
 * internalissuer,acmeissuer,zerosslissuer}.go. Only Caddy's standard distribution (no plugins).
 * To refresh: take the same files at a newer commit and compare the lists; the `caddy-names`
 * test checks that every place named here exists in Ferry's schemas.
 */

/** Caddy's standard `http.handlers.*` modules, by name. */
export const CADDY_HANDLERS: readonly string[] = [
  'acme_server',
  'authentication',
  'copy_response',
  'copy_response_headers',
  'encode',
  'error',
  'file_server',
  'headers',
  'intercept',
  'invoke',
  'log_append',
  'map',
  'metrics',
  'push',
  'request_body',
  'reverse_proxy',
  'rewrite',
  'static_response',
  'subroute',
  'templates',
  'timeouts',
  'tracing',
  'vars',
];

/** Caddy's standard `http.matchers.*` modules, by name. */
export const CADDY_MATCHERS: readonly string[] = [
  'client_ip',
  'expression',
  'file',
  'header',
  'header_regexp',
  'host',
  'method',
  'not',
  'path',
  'path_regexp',
  'protocol',
  'query',
  'remote_ip',
  'tls',
  'url_pattern',
  'vars',
  'vars_regexp',
];

/** The option names of one Caddy config object, and how a message names one of them. */
export interface CaddyObject {
  readonly keys: readonly string[];
  /** The words before the quoted name: `Caddy's ${what} "…"` (default: `${module name} option`). */
  readonly what?: string;
  /** Put before the name in the message (default: the object's location inside its module, and `.`). */
  readonly sub?: string;
}

const headerOps = ['add', 'set', 'delete', 'replace'];
const respHeaderOps = [...headerOps, 'require', 'deferred'];
const replacement = ['search', 'search_regexp', 'replace'];
const responseMatcher = ['status_code', 'headers'];
const matchRegexp = ['name', 'pattern'];

/** `headers`-handler objects (Caddy's headers.Handler), under `at` ('' for the handler itself). */
function headersObjects(at: string): Record<string, readonly string[]> {
  const p = at ? `${at}.` : '';
  return {
    [at]: ['request', 'response'],
    [`${p}request`]: headerOps,
    [`${p}request.replace.*[]`]: replacement,
    [`${p}response`]: respHeaderOps,
    [`${p}response.replace.*[]`]: replacement,
    [`${p}response.require`]: responseMatcher,
  };
}

/**
 * Caddy's config objects, by scope — a module ID, `config` (the whole config) or `server` (one of
 * `apps.http.servers`) — then by location inside it, written as Ferry's schema walk writes it
 * (schema_keys.ts): keys joined with `.`, `[]` for a list's element, `*` for a map's value.
 */
const OBJECTS: Record<string, Record<string, readonly string[] | CaddyObject>> = {
  config: {
    '': { keys: ['admin', 'logging', 'storage', 'apps'], what: 'top-level option', sub: '' },
    admin: {
      keys: ['disabled', 'listen', 'enforce_origin', 'origins', 'config', 'identity', 'remote'],
      what: 'admin option',
      sub: '',
    },
    apps: { keys: ['events', 'http', 'pki', 'tls'], what: 'app', sub: '' },
    'apps.http': {
      keys: ['http_port', 'https_port', 'grace_period', 'shutdown_delay', 'servers', 'metrics'],
      what: 'http app option',
      sub: '',
    },
    'apps.http.metrics': { keys: ['per_host', 'observe_catchall_hosts', 'otlp'], what: 'http app option', sub: 'metrics.' },
    'apps.tls': {
      keys: [
        'certificates',
        'automation',
        'session_tickets',
        'cache',
        'disable_ocsp_stapling',
        'disable_storage_check',
        'disable_storage_clean',
        'encrypted_client_hello',
        'dns',
        'resolvers',
      ],
      what: 'tls app option',
      sub: '',
    },
    'apps.tls.certificates': {
      keys: ['automate', 'load_files', 'load_folders', 'load_pem', 'load_storage'],
      what: 'certificate loader',
      sub: '',
    },
    'apps.tls.certificates.load_files[]': { keys: ['certificate', 'key', 'format', 'tags'], what: 'load_files option', sub: '' },
    'apps.tls.certificates.load_pem[]': { keys: ['certificate', 'key', 'tags'], what: 'load_pem option', sub: '' },
    'apps.tls.automation': {
      keys: ['policies', 'on_demand', 'ocsp_interval', 'renew_interval', 'storage_clean_interval'],
      what: 'tls app option',
      sub: 'automation.',
    },
    'apps.tls.automation.policies[]': {
      keys: [
        'subjects',
        'issuers',
        'get_certificate',
        'must_staple',
        'renewal_window_ratio',
        'key_type',
        'storage',
        'on_demand',
        'reuse_private_keys',
        'disable_ocsp_stapling',
        'ocsp_overrides',
      ],
      what: 'automation policy option',
      sub: '',
    },
    'apps.tls.automation.policies[].issuers[]': {
      keys: [
        'module',
        // tls.issuance.internal
        'ca',
        'lifetime',
        'sign_with_root',
        // tls.issuance.acme
        'test_ca',
        'email',
        'profile',
        'account_key',
        'external_account',
        'acme_timeout',
        'challenges',
        'trusted_roots_pem_files',
        'preferred_chains',
        'certificate_lifetime',
        'network_proxy',
        // tls.issuance.zerossl
        'api_key',
        'validity_days',
        'listen_host',
        'alternate_http_port',
        'cname_validation',
      ],
      what: 'issuer option',
      sub: '',
    },
  },
  server: {
    '': {
      keys: [
        'listen',
        'listener_wrappers',
        'packet_conn_wrappers',
        'read_timeout',
        'read_header_timeout',
        'read_idle_timeout',
        'read_min_rate',
        'write_timeout',
        'write_idle_timeout',
        'write_min_rate',
        'max_write_chunk',
        'idle_timeout',
        'keepalive_interval',
        'keepalive_idle',
        'keepalive_count',
        'max_header_bytes',
        'enable_full_duplex',
        'expected_underscore_headers',
        'expected_dot_headers',
        'routes',
        'errors',
        'named_routes',
        'tls_connection_policies',
        'automatic_https',
        'strict_sni_host',
        'trusted_proxies',
        'client_ip_headers',
        'trusted_proxies_strict',
        'trusted_proxies_unix',
        'logs',
        'protocols',
        'listen_protocols',
        'allow_0rtt',
        'metrics',
      ],
      what: 'server option',
    },
    errors: { keys: ['routes'], what: 'server option' },
    logs: {
      keys: ['default_logger_name', 'logger_names', 'skip_hosts', 'skip_unmapped_hosts', 'should_log_credentials', 'trace'],
      what: 'server option',
    },
    'tls_connection_policies[]': {
      keys: [
        'match',
        'certificate_selection',
        'cipher_suites',
        'curves',
        'alpn',
        'protocol_min',
        'protocol_max',
        'drop',
        'client_authentication',
        'default_sni',
        'fallback_sni',
        'insecure_secrets_log',
        'handshake_context',
      ],
      what: 'TLS connection policy option',
      sub: '',
    },
    'tls_connection_policies[].certificate_selection': {
      keys: ['serial_number', 'subject_organization', 'public_key_algorithm', 'any_tag', 'all_tags'],
      what: 'certificate selection option',
      sub: '',
    },
    automatic_https: {
      keys: ['disable', 'disable_redirects', 'disable_certificates', 'skip', 'skip_certificates', 'ignore_loaded_certificates'],
      what: 'server option',
    },
  },
  'http.handlers.static_response': { '': ['status_code', 'headers', 'body', 'close', 'abort'] },
  'http.handlers.error': { '': ['error', 'status_code'] },
  'http.handlers.subroute': { '': ['routes', 'errors'], errors: ['routes'] },
  'http.handlers.metrics': { '': ['disable_openmetrics'] },
  'http.handlers.headers': headersObjects(''),
  'http.handlers.encode': {
    '': ['encodings', 'prefer', 'minimum_length', 'match'],
    encodings: ['gzip', 'zstd'],
    'encodings.gzip': ['level'],
    'encodings.zstd': ['level', 'checksum'],
    match: responseMatcher,
  },
  'http.handlers.request_body': { '': ['max_size', 'set'] },
  'http.handlers.rewrite': {
    '': ['method', 'uri', 'strip_path_prefix', 'strip_path_suffix', 'uri_substring', 'path_regexp', 'query', 'force_modify_query'],
    'uri_substring[]': ['find', 'replace', 'limit'],
    'path_regexp[]': ['find', 'replace'],
    query: ['rename', 'set', 'add', 'replace', 'delete'],
    'query.rename[]': ['key', 'val'],
    'query.set[]': ['key', 'val'],
    'query.add[]': ['key', 'val'],
    'query.replace[]': ['key', 'search', 'search_regexp', 'replace'],
  },
  'http.handlers.file_server': {
    '': [
      'fs',
      'root',
      'hide',
      'index_names',
      'browse',
      'canonical_uris',
      'status_code',
      'pass_thru',
      'precompressed',
      'precompressed_order',
      'etag_file_extensions',
      'content_digest',
    ],
    browse: ['template_file', 'reveal_symlinks', 'sort', 'file_limit'],
    precompressed: ['gzip', 'br', 'zstd'],
  },
  'http.handlers.reverse_proxy': {
    '': [
      'transport',
      'circuit_breaker',
      'load_balancing',
      'health_checks',
      'upstreams',
      'dynamic_upstreams',
      'flush_interval',
      'trusted_proxies',
      'headers',
      'request_buffers',
      'response_buffers',
      'stream_timeout',
      'stream_buffer_size',
      'stream_close_delay',
      'rewrite',
      'handle_response',
      'verbose_logs',
    ],
    'upstreams[]': ['dial', 'max_requests'],
    load_balancing: ['selection_policy', 'retries', 'try_duration', 'try_interval', 'retry_match'],
    // The fields of every standard selection policy, with the `policy` that names it.
    'load_balancing.selection_policy': ['policy', 'weights', 'choose', 'key', 'field', 'name', 'secret', 'max_age', 'fallback'],
    health_checks: ['active', 'passive'],
    'health_checks.active': [
      'path',
      'uri',
      'upstream',
      'port',
      'headers',
      'method',
      'body',
      'follow_redirects',
      'interval',
      'timeout',
      'passes',
      'fails',
      'max_size',
      'expect_status',
      'expect_body',
    ],
    'health_checks.passive': ['fail_duration', 'max_fails', 'unhealthy_request_count', 'unhealthy_status', 'unhealthy_latency'],
    ...headersObjects('headers'),
    // The `http` transport's fields, the `fastcgi` transport's, and the `protocol` that names it.
    transport: [
      'protocol',
      'resolver',
      'tls',
      'keep_alive',
      'compression',
      'max_conns_per_host',
      'proxy_protocol',
      'forward_proxy_url',
      'dial_timeout',
      'dial_fallback_delay',
      'response_header_timeout',
      'expect_continue_timeout',
      'max_response_header_size',
      'write_buffer_size',
      'read_buffer_size',
      'read_timeout',
      'write_timeout',
      'versions',
      'local_address',
      'network_proxy',
      'root',
      'split_path',
      'resolve_root_symlink',
      'env',
      'capture_stderr',
    ],
    'transport.keep_alive': ['enabled', 'probe_interval', 'max_idle_conns', 'max_idle_conns_per_host', 'idle_timeout'],
    'transport.tls': [
      'ca',
      'root_ca_pool',
      'root_ca_pem_files',
      'client_certificate_file',
      'client_certificate_key_file',
      'client_certificate_automate',
      'insecure_skip_verify',
      'handshake_timeout',
      'server_name',
      'renegotiation',
      'except_ports',
      'curves',
    ],
  },
  'http.matchers.file': { '': ['fs', 'root', 'try_files', 'try_policy', 'split_path'] },
  'http.matchers.path_regexp': { '': matchRegexp },
  'http.matchers.header_regexp': { '*': matchRegexp },
  'http.matchers.vars_regexp': { '*': matchRegexp },
  'http.matchers.remote_ip': { '': ['ranges'] },
  'http.matchers.client_ip': { '': ['ranges'] },
  'http.matchers.url_pattern': { '': ['pattern', 'base_url', 'ignore_case'] },
};

/** Every place in OBJECTS, as `[scope, location]`: for the test that holds them to Ferry's schemas. */
export function caddyPlaces(): [scope: string, location: string][] {
  return Object.entries(OBJECTS).flatMap(([scope, places]) => Object.keys(places).map((location) => [scope, location] as [string, string]));
}

/** The Caddy object at `location` inside `scope`, with how messages name its options; undefined when Caddy has none there. */
export function caddyObject(scope: string, location: string): Required<CaddyObject> | undefined {
  const places = Object.hasOwn(OBJECTS, scope) ? OBJECTS[scope]! : undefined;
  const place = places && Object.hasOwn(places, location) ? places[location]! : undefined;
  if (place === undefined) return undefined;
  const { keys, what, sub } = Array.isArray(place) ? { keys: place as readonly string[] } : (place as CaddyObject);
  const moduleName = scope.slice(scope.lastIndexOf('.') + 1);
  const inside = location.replace(/\[\]/g, '');
  return { keys, what: what ?? `${moduleName} option`, sub: sub ?? (inside ? `${inside}.` : '') };
}
