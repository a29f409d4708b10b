package dev.baton.jmh;

/**
 * {@code a / b} of two scores with their error half-widths, and the range of the ratio when both errors go the
 * worst way (never below zero). An error JMH could not compute (one iteration) is taken as zero.
 */
record Ratio(double value, double low, double high) {
    static Ratio of(double a, double aError, double b, double bError) {
        double ea = Double.isNaN(aError) ? 0 : aError;
        double eb = Double.isNaN(bError) ? 0 : bError;
        return new Ratio(
                a / b, Math.max(0, a - ea) / (b + eb), b - eb <= 0 ? Double.POSITIVE_INFINITY : (a + ea) / (b - eb));
    }
}
