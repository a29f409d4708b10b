package dev.baton.sample;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Plain Spring data access: a three-statement transaction, an autocommit write and a read-only transaction. */
@Service
public class OrderService {
    private final JdbcTemplate jdbc;

    public OrderService(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** An order, its line and the item's sold counter: all or nothing. */
    @Transactional
    public void placeOrder(long orderId, long item) {
        jdbc.update("INSERT INTO orders (id, item) VALUES (?, ?)", orderId, item);
        jdbc.update("INSERT INTO order_lines (order_id, quantity) VALUES (?, 1)", orderId);
        jdbc.update("UPDATE items SET sold = sold + 1 WHERE id = ?", item);
    }

    /** One autocommit insert, outside any transaction. */
    public void recordVisit(long id) {
        jdbc.update("INSERT INTO visits (id) VALUES (?)", id);
    }

    @Transactional(readOnly = true)
    public long orders() {
        return jdbc.queryForObject("SELECT count(*) FROM orders", Long.class);
    }

    /** Orders whose three statements did not all commit together: always 0. */
    @Transactional(readOnly = true)
    public long incompleteOrders() {
        return jdbc.queryForObject(
                "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)",
                Long.class);
    }
}
