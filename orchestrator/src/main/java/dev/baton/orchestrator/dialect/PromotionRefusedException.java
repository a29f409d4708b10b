package dev.baton.orchestrator.dialect;

import java.sql.SQLException;

/**
 * The server refused the request to promote outright (no privilege to promote, for example): the node is not being
 * promoted and cannot take writes, so the promotion need not be waited for. Any other failure of a promotion leaves
 * it possibly under way.
 */
public final class PromotionRefusedException extends SQLException {
    public PromotionRefusedException(String message, SQLException cause) {
        super(message, cause.getSQLState(), cause.getErrorCode(), cause);
    }
}
