-- Issue 8: every message bumps its conversation's updated_at. With updated_at in this index, each
-- message also rewrote an index leaf page (one per customer in a group commit), the largest share of
-- the WAL written per batch. A customer has few conversations: (customer_id, status) finds them, and
-- the continuity window's updated_at filter reads those few rows.
DROP INDEX conversations_customer;
CREATE INDEX conversations_customer ON conversations(customer_id, status);
