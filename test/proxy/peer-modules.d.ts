// webtorrent's peer modules ship no types; the proxy tests use them untyped.
declare module 'bittorrent-protocol';
declare module 'lt_donthave';
declare module 'ut_metadata';
