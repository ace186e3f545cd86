-- A package withheld on replay that its agency acknowledges after all is closed as 'acknowledged': the
-- agency holds it, so it is never issued again.
ALTER TABLE packages
    DROP CONSTRAINT packages_withheld_decision_check,
    ADD CONSTRAINT packages_withheld_decision_check
        CHECK (withheld_decision IN ('reissued', 'set_aside', 'acknowledged'));
