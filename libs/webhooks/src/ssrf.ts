import { isIP } from 'node:net';
import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import * as ipaddr from 'ipaddr.js';

/** Cloud metadata services, named as such whatever range they sit in. */
const METADATA = new Set(['169.254.169.254', '100.100.100.200', 'fd00:ec2::254']);

/** Documentation ranges (RFC 5737, RFC 3849), named apart from the other reserved ones. */
const DOCUMENTATION: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [
  ipaddr.parseCIDR('192.0.2.0/24'),
  ipaddr.parseCIDR('198.51.100.0/24'),
  ipaddr.parseCIDR('203.0.113.0/24'),
  ipaddr.parseCIDR('2001:db8::/32'),
];

/** Global unicast IPv6 (2000::/3): anything outside it that ipaddr.js does not name is unassigned space. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];
const LOCAL_USE_NAT64 = ipaddr.parseCIDR('64:ff9b:1::/48') as [ipaddr.IPv6, number];

/** Why each range that ipaddr.js names is refused. Every name but `unicast` is refused. */
const REASONS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a shared (carrier-grade NAT) address',
  private: 'a private address',
  uniqueLocal: 'a private (unique local) address',
  deprecatedSiteLocal: 'a site-local address',
  reserved: 'a reserved address',
  benchmarking: 'a benchmarking address',
  discard: 'a discard-only address',
};

/** IPv6 forms that carry an IPv4 address, with where it sits. */
type Embedding = { form: string; ipv4: ipaddr.IPv4[]; alwaysRefused?: string };

/**
 * Why `address` is refused as a webhook destination, or null when it is a
 * public unicast address. Ranges are classified by ipaddr.js; an IPv6 address
 * that embeds an IPv4 address (mapped, compatible, translated, NAT64, 6to4,
 * Teredo) is refused when the IPv4 address would be.
 */
export function refusalOf(address: string): string | null {
  if (isIP(address) === 0) return 'not an IP address';
  const ip = ipaddr.parse(address);
  if (METADATA.has(ip.toNormalizedString()) || METADATA.has(ip.toString())) return 'a cloud metadata address';
  if (ip.kind() === 'ipv4') return refusalOfIpv4(ip as ipaddr.IPv4);
  const v6 = ip as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'unspecified' || range === 'loopback') return REASONS[range];
  const embedding = embeddedIpv4(v6);
  if (embedding) {
    for (const v4 of embedding.ipv4) {
      const reason = refusalOf(v4.toString());
      if (!reason) continue;
      // ::ffff:127.0.0.1 is 127.0.0.1 to the kernel: say so plainly.
      return embedding.form === 'IPv4-mapped'
        ? reason
        : `${/^IPv4/.test(embedding.form) ? 'an' : 'a'} ${embedding.form} address of ${v4}, ${reason}`;
    }
    return embedding.alwaysRefused ?? null;
  }
  if (inAny(v6, DOCUMENTATION)) return 'a documentation address';
  if (range !== 'unicast') return REASONS[range] ?? `a special-purpose address (${range})`;
  if (!v6.match(GLOBAL_UNICAST_V6)) return 'not a global unicast address';
  return null;
}

function refusalOfIpv4(ip: ipaddr.IPv4): string | null {
  if (inAny(ip, DOCUMENTATION)) return 'a documentation address';
  const range = ip.range();
  if (range === 'unicast') return null;
  return REASONS[range] ?? `a special-purpose address (${range})`;
}

function inAny(ip: ipaddr.IPv4 | ipaddr.IPv6, ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>): boolean {
  return ranges.some(([network, bits]) => network.kind() === ip.kind() && ip.match(network, bits));
}

/** The IPv4 address(es) an IPv6 address carries, if it is one of the forms that carry one. */
function embeddedIpv4(ip: ipaddr.IPv6): Embedding | null {
  const p = ip.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 255, low >> 8, low & 255]);
  const last32 = v4(p[6], p[7]);
  switch (ip.range()) {
    case 'ipv4Mapped': // ::ffff:0:0/96
      return { form: 'IPv4-mapped', ipv4: [last32] };
    case 'rfc6145': // ::ffff:0:0:0/96, IPv4-translated
      return { form: 'IPv4-translated', ipv4: [last32] };
    case 'rfc6052': // NAT64: 64:ff9b::/96 well-known, 64:ff9b:1::/48 local-use
      return ip.match(LOCAL_USE_NAT64)
        ? {
            form: 'NAT64 local-use',
            ipv4: [last32],
            alwaysRefused: 'a local-use NAT64 address (64:ff9b:1::/48, not global)',
          }
        : { form: 'NAT64', ipv4: [last32] };
    case '6to4': // 2002:AABB:CCDD::/48
      return { form: '6to4', ipv4: [v4(p[1], p[2])] };
    case 'teredo': // 2001:0:SERVER:flags:port:~CLIENT
      return { form: 'Teredo', ipv4: [v4(p[2], p[3]), v4(~p[6] & 0xffff, ~p[7] & 0xffff)] };
  }
  // ::a.b.c.d, IPv4-compatible (deprecated by RFC 4291): never a valid destination.
  if (p.slice(0, 6).every((part) => part === 0))
    return { form: 'IPv4-compatible', ipv4: [last32], alwaysRefused: 'a deprecated IPv4-compatible address' };
  return null;
}

export class RefusedDestinationError extends Error {
  readonly code = 'ERR_WEBHOOK_DESTINATION_REFUSED';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that resolves the host and refuses it when
 * any address is not public: the address checked is the address connected
 * to, so DNS that changes between check and connect cannot get through.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number } | undefined,
    callback: LookupCallback,
  ): void => {
    dnsLookup(hostname, { ...(options ?? {}), all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      if (!allowPrivate) {
        for (const { address } of addresses) {
          const reason = refusalOf(address);
          if (reason) return callback(new RefusedDestinationError(`${hostname} resolves to ${address}, ${reason}`), []);
        }
      }
      if (options?.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Resolves the URL's host and tells why it is refused, or null. Literal IPs are judged as they are. */
export async function refusalOfUrl(url: URL, allowPrivate: boolean): Promise<string | null> {
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const reason = refusalOf(host);
    return reason && `${host} is ${reason}`;
  }
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true }, (e, a) => (e ? reject(e) : resolve(a))),
  ).catch((error: NodeJS.ErrnoException) => error);
  if (addresses instanceof Error) return `${host} does not resolve (${addresses.code ?? addresses.message})`;
  for (const { address } of addresses) {
    const reason = refusalOf(address);
    if (reason) return `${host} resolves to ${address}, ${reason}`;
  }
  return null;
}
