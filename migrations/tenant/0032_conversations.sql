-- Conversations between the front desk and members: a member opens a thread in the portal,
-- staff answer in the console; threads are assigned to staff, closed and reopened; staff
-- note follow-ups with a due date.

CREATE TABLE conversations (
    id              uuid PRIMARY KEY,
    member_id       uuid NOT NULL REFERENCES members (id),
    subject         text NOT NULL,
    -- `open`: the member wrote last, it waits for an answer; `waiting`: answered, it waits
    -- for the member; `closed`.
    status          text NOT NULL DEFAULT 'open',
    -- The staff member it is assigned to (no foreign key: staff accounts are never deleted,
    -- and the name shown is the one kept here).
    assignee_id     uuid,
    assignee_name   text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_message_at timestamptz NOT NULL,
    -- Staff answers the member has not opened yet.
    member_unread   int NOT NULL DEFAULT 0,
    CONSTRAINT conversations_status CHECK (status IN ('open', 'waiting', 'closed')),
    CONSTRAINT conversations_subject_length CHECK (char_length(subject) BETWEEN 1 AND 200)
);
CREATE INDEX conversations_list ON conversations (last_message_at DESC, id DESC);
CREATE INDEX conversations_member ON conversations (member_id, last_message_at DESC);

CREATE TABLE conversation_messages (
    id              bigserial PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    -- `member` or `staff`.
    author          text NOT NULL,
    -- The staff member (or API key) who wrote it; NULL for the member.
    staff_id        uuid,
    author_name     text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL,
    CONSTRAINT conversation_messages_author CHECK (author IN ('member', 'staff')),
    CONSTRAINT conversation_messages_body_length CHECK (char_length(body) BETWEEN 1 AND 4000)
);
CREATE INDEX conversation_messages_thread ON conversation_messages (conversation_id, id);

-- "Call back on ...": a note with a due date, done when staff say so.
CREATE TABLE conversation_follow_ups (
    id              uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    due_on          date NOT NULL,
    note            text NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    done_at         timestamptz,
    done_by         text
);
CREATE INDEX conversation_follow_ups_due ON conversation_follow_ups (due_on) WHERE done_at IS NULL;
CREATE INDEX conversation_follow_ups_thread ON conversation_follow_ups (conversation_id);
