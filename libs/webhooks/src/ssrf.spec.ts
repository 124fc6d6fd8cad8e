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
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['fe80::1', 'a link-local address'],
    ['fd12:3456::1', 'a private (unique local) address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::ffff:a9fe:a9fe', 'a cloud metadata address'],
    ['64:ff9b::10.0.0.1', 'a private address'],
    ['224.0.0.1', 'a multicast address'],
  ])('refuses %s as %s', (address, reason) => {
    expect(refusalOf(address)).toBe(reason);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('lets the public address %s through', (address) => {
    expect(refusalOf(address)).toBeNull();
  });
});

describe('refusalOfUrl', () => {
  it('judges literal addresses and names that resolve to private ones', async () => {
    expect(await refusalOfUrl(new URL('http://[::ffff:127.0.0.1]/'), false)).toBe('::ffff:7f00:1 is a loopback address');
    expect(await refusalOfUrl(new URL('http://localhost:8080/'), false)).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
    expect(await refusalOfUrl(new URL('http://127.0.0.1/'), true)).toBeNull();
  });
});
