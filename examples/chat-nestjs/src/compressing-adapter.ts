/**
 * WsuiteAdapter with permessage-deflate on every gateway.
 *
 * Why a subclass: @wsuite/nestjs-adapter 0.1.0 passes a fixed list of core options to the core
 * servers it builds, and `perMessageDeflate` is not on it yet (adapter and gateway options
 * reject it). Core's server has the option, so this adapter re-mounts each gateway's server
 * with its own config plus `perMessageDeflate` right after the adapter creates it, before any
 * client connects. (`mount()` is core's public API; the server stays in noServer mode.)
 */
import type { INestApplicationContext } from '@nestjs/common';
import type { ServerConfig } from '@wsuite/core';
import { WsuiteAdapter, type GatewayServer, type WsuiteAdapterOptions, type WsuiteGatewayOptions } from '@wsuite/nestjs-adapter';

export class CompressingWsuiteAdapter extends WsuiteAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly perMessageDeflate: ServerConfig['perMessageDeflate'],
    options?: WsuiteAdapterOptions,
  ) {
    super(app, options);
  }

  override create(port: number, options?: WsuiteGatewayOptions & { namespace?: unknown }): GatewayServer {
    const server = super.create(port, options);
    if (this.perMessageDeflate && server.config) server.mount({ ...server.config, perMessageDeflate: this.perMessageDeflate });
    return server;
  }
}
