import { createServer } from 'node:http';
import { attachUpgrades, toNodeHandler } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';

const proxy = toNodeHandler([reverseProxy({ upstreams: [{ dial: process.env.API ?? '127.0.0.1:9000' }] })]);

export const server = createServer(proxy).listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
attachUpgrades(server, proxy);
