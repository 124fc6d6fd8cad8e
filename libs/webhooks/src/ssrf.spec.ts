import { refusalOf, refusalOfUrl } from './ssrf';

describe('refusalOf', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.8.9.10', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['10.0.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.0.1', 'a private address'],
    ['100.64.0.1', 'a shared (carrier-grade NAT) address'],
    ['169.254.10.10', 'a link-local address'],
    ['169.254.169.254', 'a cloud metadata address'],
    ['100.100.100.200', 'a cloud metadata address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['fe80::1', 'a link-local address'],
    ['fd12:3456::1', 'a private (unique local) address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::ffff:a9fe:a9fe', 'a cloud metadata address'],
    ['64:ff9b::10.0.0.1', 'a NAT64 address of 10.0.0.1, a private address'],
    ['224.0.0.1', 'a multicast address'],
    ['255.255.255.255', 'a broadcast address'],
    ['198.18.0.1', 'a reserved address'],
    ['240.0.0.1', 'a reserved address'],
  ])('refuses %s as %s', (address, reason) => {
    expect(refusalOf(address)).toBe(reason);
  });

  // Issue 11, item 11: forms the guard let through before it classified with ipaddr.js.
  it.each([
    ['::7f00:1', 'an IPv4-compatible address of 127.0.0.1, a loopback address'], // [::127.0.0.1] as the URL parser writes it
    ['::a00:1', 'an IPv4-compatible address of 10.0.0.1, a private address'],
    ['::808:808', 'a deprecated IPv4-compatible address'], // even with a public IPv4 inside
    ['2002:7f00:1::1', 'a 6to4 address of 127.0.0.1, a loopback address'],
    ['2002:a9fe:a9fe::1', 'a 6to4 address of 169.254.169.254, a cloud metadata address'],
    ['64:ff9b:1::7f00:1', 'a NAT64 local-use address of 127.0.0.1, a loopback address'],
    ['64:ff9b:1::808:808', 'a local-use NAT64 address (64:ff9b:1::/48, not global)'],
    ['64:ff9b::7f00:1', 'a NAT64 address of 127.0.0.1, a loopback address'],
    ['::ffff:0:7f00:1', 'an IPv4-translated address of 127.0.0.1, a loopback address'],
    ['::ffff:0:c0a8:101', 'an IPv4-translated address of 192.168.1.1, a private address'],
    // Teredo: server 65.54.227.120, client ~(3fff:fdd2) = 192.0.2.45 (documentation), and a loopback client.
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'a Teredo address of 192.0.2.45, a documentation address'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'a Teredo address of 127.0.0.1, a loopback address'],
    ['fec0::1', 'a site-local address'],
    ['feff:ffff::1', 'a site-local address'],
    ['192.0.2.1', 'a documentation address'],
    ['198.51.100.7', 'a documentation address'],
    ['203.0.113.255', 'a documentation address'],
    ['2001:db8::1', 'a documentation address'],
    ['2001:db8:ffff::1', 'a documentation address'],
    ['2001:2::1', 'a benchmarking address'],
    ['100::1', 'a discard-only address'],
    ['4000::1', 'not a global unicast address'],
  ])('refuses the embedded or special form %s as %s', (address, reason) => {
    expect(refusalOf(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '172.32.0.1',
    '1.1.1.1',
    '192.0.3.1', // just past 192.0.2.0/24
    '203.0.114.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '::ffff:0:808:808', // IPv4-translated public
    '64:ff9b::808:808', // well-known NAT64 of a public address
    '2002:808:808::1', // 6to4 of a public address
    '2001:0:4136:e378:8000:63bf:f7f7:f7f7', // Teredo, public server and client (8.8.8.8)
  ])('lets the public unicast address %s through', (address) => {
    expect(refusalOf(address)).toBeNull();
  });

  it('is not fooled by text that is not an address', () => {
    expect(refusalOf('localhost')).toBe('not an IP address');
    expect(refusalOf('0x7f.1')).toBe('not an IP address');
  });
});

describe('refusalOfUrl', () => {
  it('judges literal addresses and names that resolve to private ones', async () => {
    expect(await refusalOfUrl(new URL('http://[::ffff:127.0.0.1]/'), false)).toBe(
      '::ffff:7f00:1 is a loopback address',
    );
    expect(await refusalOfUrl(new URL('http://localhost:8080/'), false)).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/,
    );
    expect(await refusalOfUrl(new URL('http://127.0.0.1/'), true)).toBeNull();
  });

  it.each([
    ['http://[::127.0.0.1]/', 'loopback'],
    ['http://[2002:7f00:1::1]/', 'loopback'],
    ['http://[64:ff9b:1::7f00:1]/', 'loopback'],
    ['http://[::ffff:0:7f00:1]/', 'loopback'],
    ['http://[fec0::1]/', 'site-local'],
    ['http://192.0.2.10/', 'documentation'],
    ['http://198.51.100.10/', 'documentation'],
    ['http://203.0.113.10/', 'documentation'],
    ['http://[2001:db8::10]/', 'documentation'],
    ['http://0x7f000001/', 'loopback'], // the URL parser turns it into 127.0.0.1
  ])('refuses the URL %s (%s) unless WEBHOOK_ALLOW_PRIVATE lifts the guard', async (url, kind) => {
    expect(await refusalOfUrl(new URL(url), false)).toContain(kind);
    expect(await refusalOfUrl(new URL(url), true)).toBeNull();
  });

  it('lets public literal addresses through', async () => {
    expect(await refusalOfUrl(new URL('https://8.8.8.8/hook'), false)).toBeNull();
    expect(await refusalOfUrl(new URL('https://[2606:4700:4700::1111]/hook'), false)).toBeNull();
  });
});
