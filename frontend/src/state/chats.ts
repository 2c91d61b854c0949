import type { Message } from '../api/types';

/** The other party of a message: recipient of an `out`, sender of an `in`. */
export function messagePeer(m: Message): string {
  const v = m.peer ?? (m.direction === 'out' ? m.to ?? m.chat : m.from ?? m.chat);
  return typeof v === 'string' && v ? v : '';
}

/** Text, or the caption or kind of the media. */
export function messageBody(m: Message): string {
  if (typeof m.text === 'string' && m.text) return m.text;
  const media = m.media as { caption?: string | null; mimetype?: string; filename?: string | null } | undefined | null;
  if (media) return media.caption || `[${media.filename || media.mimetype || 'media'}]`;
  return '';
}

export interface Chat {
  peer: string;
  /** Newest first. */
  messages: Message[];
  last: Message;
  unreadIn: number;
}

function time(m: Message): number {
  const t = Date.parse(String(m.created_at ?? ''));
  return Number.isFinite(t) ? t : 0;
}

/** Messages grouped by the other party, the chat with the newest message first. */
export function groupByChat(messages: Message[]): Chat[] {
  const byPeer = new Map<string, Message[]>();
  for (const m of messages) {
    const p = messagePeer(m) || 'unknown';
    const list = byPeer.get(p);
    if (list) list.push(m);
    else byPeer.set(p, [m]);
  }
  const chats: Chat[] = [];
  for (const [peer, list] of byPeer) {
    list.sort((a, b) => time(b) - time(a));
    chats.push({ peer, messages: list, last: list[0], unreadIn: list.filter((m) => m.direction === 'in').length });
  }
  return chats.sort((a, b) => time(b.last) - time(a.last) || a.peer.localeCompare(b.peer));
}

/** Messages whose text, caption, file name or peer contains every word of `query`. */
export function searchMessages(messages: Message[], query: string): Message[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return messages;
  return messages.filter((m) => {
    const hay = `${messageBody(m)} ${messagePeer(m)}`.toLowerCase();
    return words.every((w) => hay.includes(w.replace(/^\+/, '')));
  });
}

/** Adds a page of older messages to what is known, one row per id, newest first. */
export function mergePages(known: Message[], page: Message[]): Message[] {
  const byId = new Map(known.map((m) => [m.id, m]));
  for (const m of page) if (!byId.has(m.id)) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => time(b) - time(a));
}
