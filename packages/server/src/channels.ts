import { CHANNEL_CHARS, ErrorCode, channelKey, isAdminChannel, isValidChannel, namespaceOf } from '@tidings/protocol';
import { TidingsError } from './errors.js';
import { DEFAULT_NAMESPACE, type NamespaceOptions } from './options.js';

/** Who is asking: a user id ('' for anonymous) and channels their token grants. */
export interface Principal {
  user: string;
  channels?: string[] | undefined;
  /** An admin console live token: may subscribe to no channel of its own, publish nowhere. */
  admin?: boolean | undefined;
}

/** The admin namespace's options (`$admin:…`): nothing kept, no presence, no client may publish. */
const ADMIN_CHANNELS: NamespaceOptions = { ...DEFAULT_NAMESPACE, historySize: 0, historyTtl: 60 };

/** Channel name and namespace rules: which namespace a channel is in and who may do what. */
export class ChannelPolicy {
  /** Own keys only: a channel `constructor:x` must not find `Object.prototype.constructor`. */
  private readonly namespaces: ReadonlyMap<string, NamespaceOptions>;

  /** `namespaces`: options by namespace name (own enumerable keys; `__proto__` is a name like any other). */
  constructor(namespaces: Record<string, NamespaceOptions>) {
    this.namespaces = new Map(Object.entries(namespaces));
  }

  /**
   * The channel's namespace options; throws invalid_channel or unknown_channel. An admin channel
   * (`$admin:stats`) resolves only for `admin`: the server-side subscription of an admin console
   * live token. For everyone else it is an invalid name (`$` is not a channel character).
   */
  resolve(channel: string, admin = false): NamespaceOptions {
    if (admin && isAdminChannel(channel)) return ADMIN_CHANNELS;
    if (!isValidChannel(channel)) {
      throw new TidingsError(ErrorCode.InvalidChannel, `invalid channel name ${JSON.stringify(channel.slice(0, 64))}: use 1–255 of ${CHANNEL_CHARS}`);
    }
    const ns = this.namespaces.get(namespaceOf(channel));
    if (!ns) throw new TidingsError(ErrorCode.UnknownChannel, `unknown namespace ${JSON.stringify(namespaceOf(channel))} in channel ${channel}`);
    return ns;
  }

  /** Whether subscribers of `channel` get `join`/`leave` pushes; false for an invalid or unknown channel. */
  announcesJoinLeave(channel: string): boolean {
    return isValidChannel(channel) && this.namespaces.get(namespaceOf(channel))?.joinLeave === true;
  }

  /** Throws permission_denied unless `who` may subscribe to `channel` (in namespace `ns`). */
  checkSubscribe(ns: NamespaceOptions, channel: string, who: Principal): void {
    if (who.admin) throw new TidingsError(ErrorCode.PermissionDenied, 'an admin live token receives the admin channels only');
    if (who.channels?.includes(channel)) return;
    switch (ns.subscribe) {
      case 'anyone':
        return;
      case 'authenticated':
        if (who.user !== '') return;
        throw new TidingsError(ErrorCode.PermissionDenied, `channel ${channel} needs an authenticated connection`);
      case 'owner':
        if (who.user !== '' && channelKey(channel) === who.user) return;
        throw new TidingsError(ErrorCode.PermissionDenied, `channel ${channel} belongs to another user`);
    }
  }

  /** Clients publish only where the namespace allows it and they may subscribe. */
  checkPublish(ns: NamespaceOptions, channel: string, who: Principal): void {
    if (!ns.publish) throw new TidingsError(ErrorCode.PermissionDenied, `clients may not publish to ${channel}`);
    this.checkSubscribe(ns, channel, who);
  }
}
