-- Double entry, enforced by the database: at commit, every journal entry that was touched
-- has at least two lines and its lines sum to zero in each currency. The journal is
-- append-only: a correction is a new, reversing entry.

CREATE FUNCTION ledger.assert_entry_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    checked_entry bigint := NEW.entry_id;
    line_count    bigint;
    unbalanced    text;
BEGIN
    SELECT count(*) INTO line_count FROM ledger.journal_line WHERE entry_id = checked_entry;
    IF line_count < 2 THEN
        RAISE EXCEPTION 'journal entry % has % line(s); double entry needs at least 2', checked_entry, line_count
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT string_agg(format('%s %s', currency, total), ', ' ORDER BY currency) INTO unbalanced
    FROM (
        SELECT currency, sum(amount_minor) AS total
        FROM ledger.journal_line WHERE entry_id = checked_entry
        GROUP BY currency HAVING sum(amount_minor) <> 0
    ) AS t;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance: lines sum to % (minor units)', checked_entry, unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER journal_entry_balanced
    AFTER INSERT ON ledger.journal_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger.assert_entry_balanced();

CREATE CONSTRAINT TRIGGER journal_line_balanced
    AFTER INSERT ON ledger.journal_line
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger.assert_entry_balanced();

CREATE FUNCTION ledger.reject_journal_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only: % on % is not allowed; post a reversing entry', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER journal_entry_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger.journal_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.reject_journal_change();

CREATE TRIGGER journal_line_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger.journal_line
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.reject_journal_change();
