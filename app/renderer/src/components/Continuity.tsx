import type { MessageView } from '../../../../common/api/sessions';
import type { ChannelCode } from '../../../../common/message/session-id';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';
import { useFormat } from '../format';

/** The channels a list of messages went over, in the order they first appear. */
export function channelsOf(messages: readonly Pick<MessageView, 'channel'>[]): ChannelCode[] {
  return [...new Set(messages.map((m) => m.channel))];
}

/** A message's (or a session's) channel as a small, calm tag: WeChat / App / Web / XMPP / Voice. */
export function ChannelBadge({ channel }: { channel: ChannelCode }) {
  const { t } = useTranslation('continuity');
  const name = t(`channels.${channel}`);
  return (
    <span
      className={`channel-badge channel-badge--${channel.toLowerCase()}`}
      title={t('badgeTitle', { channel: name })}
      data-testid="channel-badge"
    >
      {name}
    </span>
  );
}

/** The line between two messages where the customer went on from one channel to another (issue 12). */
export function ChannelSwitch({ from, to, at }: { from: ChannelCode; to: ChannelCode; at: string }) {
  const { t } = useTranslation('continuity');
  const { stamp } = useFormat();
  return (
    <li className="channel-switch" data-testid="channel-switch" role="separator">
      <span>
        {t('switched', { to: t(`inSentence.to.${to}`), from: t(`inSentence.from.${from}`) })} · <time dateTime={at}>{stamp(at)}</time>
      </span>
    </li>
  );
}

/** Says the open chat followed its customer to another channel (until another chat is opened). */
export function FollowedNotice() {
  const { t } = useTranslation('continuity');
  const followed = useWorkstation((s) => s.followed);
  const openId = useWorkstation((s) => s.openSessionId);
  if (!followed || followed.toSessionId !== openId || followed.fromChannel === followed.toChannel) return null;
  return (
    <p className="followed-notice" data-testid="followed-notice" role="status">
      {t('followed', { to: t(`inSentence.to.${followed.toChannel}`), from: t(`inSentence.from.${followed.fromChannel}`) })}
    </p>
  );
}
