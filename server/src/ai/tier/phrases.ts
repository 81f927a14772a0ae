import type { Lang } from '../../../../common/ai/types';
import type { QueueStanding } from '../../../../common/ai/assist';
import type { SmallTalk } from './small-talk';

/**
 * What the AI tier and the hand-over say to customers, in their language (zh / en). Short, plain,
 * and always with the way out: every AI message may be followed by "talk to a person".
 */
export const phrases = {
  smallTalk(kind: SmallTalk, lang: Lang): string {
    const zh = {
      greeting: '您好！我是智能助手，请问有什么可以帮您？随时可以说"转人工"。',
      thanks: '不客气！还有其他问题吗？',
      goodbye: '感谢您的咨询，再见！',
    };
    const en = {
      greeting: "Hello! I'm the AI assistant. What can I help you with? You can ask for a person at any time.",
      thanks: "You're welcome! Anything else I can help with?",
      goodbye: 'Thanks for contacting us. Goodbye!',
    };
    return (lang === 'zh' ? zh : en)[kind];
  },

  clarify(a: string, b: string, lang: Lang): string {
    return lang === 'zh'
      ? `请问您是想问：1）${a}，还是 2）${b}？请回复 1 或 2，或者再具体描述一下。`
      : `Do you mean 1) "${a}" or 2) "${b}"? Reply 1 or 2, or tell me a bit more.`;
  },

  /** After the same question was answered once already: the answer again, and the way to a person. */
  repeat(answer: string, lang: Lang): string {
    return lang === 'zh'
      ? `${answer}\n\n如果这没有解决您的问题，回复"转人工"即可由人工客服为您处理。`
      : `${answer}\n\nIf this doesn't solve it, say "agent" and a person will take over.`;
  },

  /** Where a customer handed to a person stands. */
  handedOver(standing: QueueStanding, lang: Lang): string {
    if (standing.noAgentOnline) {
      return lang === 'zh'
        ? '正在为您转接人工客服。目前没有客服在线：请直接在这里留言，客服上线后会最先看到并回复您。'
        : 'Passing you to a person. No agent is online right now: leave your message here and an agent will see it first when they are back.';
    }
    const wait = standing.estimatedWaitSeconds;
    if (lang === 'zh') {
      const eta = wait === null ? '' : wait < 60 ? '，马上就有客服接待您' : `，预计等待约 ${Math.ceil(wait / 60)} 分钟`;
      return `正在为您转接人工客服。您前面还有 ${standing.position - 1} 位${eta}。`;
    }
    const eta =
      wait === null ? '' : wait < 60 ? ' An agent will be with you shortly.' : ` Estimated wait: about ${Math.ceil(wait / 60)} min.`;
    return `Passing you to a person. You are number ${standing.position} in the queue.${eta}`;
  },

  /** Asked for a person again while already waiting for one. */
  stillWaiting(standing: QueueStanding, lang: Lang): string {
    if (standing.noAgentOnline) {
      return lang === 'zh'
        ? '您已在人工队列中。目前没有客服在线，您的留言会被最先处理。'
        : "You're already waiting for a person. No agent is online right now; your message will be seen first.";
    }
    return lang === 'zh'
      ? `您已在人工队列中，前面还有 ${standing.position - 1} 位。`
      : `You're already waiting for a person: number ${standing.position} in the queue.`;
  },

  /** An agent transferred the conversation to a colleague (issue 11): the customer will not have to repeat themselves. */
  transferred(lang: Lang): string {
    return lang === 'zh'
      ? '正在为您转接另一位同事继续处理，请稍候。您之前的对话记录会一并转交，无需重复说明。'
      : "I'm connecting you with a colleague who can help further. Please hold on: they will see our conversation, so you won't need to repeat anything.";
  },
};
