# The Baton image: the distribution jar on a JDK (a JDK, not a JRE, so that docker-compose's demo application can
# run as a single source file). Build the jar first: ./mvnw -B -DskipTests package
FROM eclipse-temurin:17-jdk
COPY bench/target/baton.jar /opt/baton/baton.jar
EXPOSE 8008
ENTRYPOINT ["java", "-jar", "/opt/baton/baton.jar"]
CMD ["--help"]
