import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, LookupAddress } from 'node:dns';

/** Address ranges a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE=true, with why. */
const REFUSED: Array<[cidr: string, family: 'ipv4' | 'ipv6', reason: string]> = [
  ['169.254.169.254/32', 'ipv4', 'a cloud metadata address'],
  ['100.100.100.200/32', 'ipv4', 'a cloud metadata address'],
  ['fd00:ec2::254/128', 'ipv6', 'a cloud metadata address'],
  ['0.0.0.0/8', 'ipv4', 'an unspecified address'],
  ['127.0.0.0/8', 'ipv4', 'a loopback address'],
  ['10.0.0.0/8', 'ipv4', 'a private address'],
  ['172.16.0.0/12', 'ipv4', 'a private address'],
  ['192.168.0.0/16', 'ipv4', 'a private address'],
  ['100.64.0.0/10', 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['169.254.0.0/16', 'ipv4', 'a link-local address'],
  ['192.0.0.0/24', 'ipv4', 'a reserved address'],
  ['198.18.0.0/15', 'ipv4', 'a reserved address'],
  ['224.0.0.0/4', 'ipv4', 'a multicast address'],
  ['240.0.0.0/4', 'ipv4', 'a reserved address'],
  ['::/128', 'ipv6', 'an unspecified address'],
  ['::1/128', 'ipv6', 'a loopback address'],
  ['fc00::/7', 'ipv6', 'a private (unique local) address'],
  ['fe80::/10', 'ipv6', 'a link-local address'],
  ['ff00::/8', 'ipv6', 'a multicast address'],
];

const lists = REFUSED.map(([cidr, family, reason]) => {
  const list = new BlockList();
  const [network, prefix] = cidr.split('/');
  list.addSubnet(network, Number(prefix), family);
  return { list, family, reason };
});

/** Why `address` is refused as a webhook destination, or null when it is public. */
export function refusalOf(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  // IPv4 written inside IPv6 (::ffff:10.0.0.1, 64:ff9b::10.0.0.1) is judged as the IPv4 address.
  const embedded = embeddedIpv4(address);
  if (embedded) return refusalOf(embedded);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, family: f, reason } of lists) if (f === type && list.check(address, type)) return reason;
  return null;
}

/** The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address, in either notation (::ffff:7f00:1). */
function embeddedIpv4(address: string): string | null {
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (dotted) return dotted;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return null;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
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
  return (hostname: string, options: { all?: boolean; family?: number } | undefined, callback: LookupCallback): void => {
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
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) => dnsLookup(host, { all: true }, (e, a) => (e ? reject(e) : resolve(a)))).catch(
    (error: NodeJS.ErrnoException) => error,
  );
  if (addresses instanceof Error) return `${host} does not resolve (${addresses.code ?? addresses.message})`;
  for (const { address } of addresses) {
    const reason = refusalOf(address);
    if (reason) return `${host} resolves to ${address}, ${reason}`;
  }
  return null;
}
