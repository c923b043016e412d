/**
 * IpAddress is a parsed IPv4 or IPv6 address as Go's `netip.ParseAddr` reads it (SpiceDB's
 * `ipaddress` caveat type): `bytes` are 4 or 16 octets; `zone` is an IPv6 zone (`fe80::1%eth0`).
 * An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) stays IPv6, as in Go.
 */
export interface IpAddress {
  readonly bytes: Uint8Array;
  readonly zone: string | undefined;
}

/**
 * parseIpAddress reads `text` the way Go's netip.ParseAddr does, or returns undefined: IPv4 in
 * dotted decimal with four parts, no leading zeros (`010.0.0.1` is rejected rather than read as
 * octal); IPv6 with `::`, an embedded IPv4 tail and an optional non-empty `%zone`.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes(":")) return parseIpv6(text);
  const bytes = parseIpv4(text);
  return bytes === undefined ? undefined : { bytes, zone: undefined };
}

/**
 * ipInCidr is SpiceDB's `ip.in_cidr(cidr)`, which is Go's `netip.ParsePrefix(cidr).Contains(ip)`:
 * undefined when `cidr` is not `address/bits` (no zone, bits within the family's width, written
 * without leading zeros); false when the families differ or the address has a zone; otherwise
 * whether the first `bits` bits agree (host bits in `cidr` are ignored).
 */
export function ipInCidr(ip: IpAddress, cidr: string): boolean | undefined {
  const slash = cidr.lastIndexOf("/");
  if (slash < 0) return undefined;
  const network = parseIpAddress(cidr.slice(0, slash));
  const bitsText = cidr.slice(slash + 1);
  if (network === undefined || network.zone !== undefined || !/^(0|[1-9][0-9]{0,2})$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > network.bytes.length * 8) return undefined;
  if (ip.zone !== undefined || ip.bytes.length !== network.bytes.length) return false;
  for (let bit = 0; bit < bits; bit++) {
    const mask = 0x80 >> bit % 8;
    const index = Math.floor(bit / 8);
    if (((ip.bytes[index] ?? 0) & mask) !== ((network.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** formatIpAddress writes an address back as text (IPv6 in hexadecimal groups, not compressed). */
export function formatIpAddress(ip: IpAddress): string {
  if (ip.bytes.length === 4) return [...ip.bytes].join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0)).toString(16));
  return groups.join(":") + (ip.zone === undefined ? "" : `%${ip.zone}`);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6(text: string): IpAddress | undefined {
  let address = text;
  let zone: string | undefined;
  const percent = text.indexOf("%");
  if (percent >= 0) {
    zone = text.slice(percent + 1);
    address = text.slice(0, percent);
    if (zone === "") return undefined;
  }
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  if (head === undefined || tail === undefined) return undefined;
  const count = head.length + tail.length;
  // `::` stands for at least one zero group; without it there must be exactly eight.
  if (halves.length === 2 ? count > 7 : count !== 8) return undefined;
  const groups = [...head, ...Array<number>(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (const [i, group] of groups.entries()) {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  }
  return { bytes, zone };
}
